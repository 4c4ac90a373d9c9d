package dynamo_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"mediashare/internal/authstore"
	"mediashare/internal/authstore/authstoretest"
	"mediashare/internal/authstore/dynamo"
	"mediashare/internal/awstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.Stop()
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	authstoretest.Run(t, func(t *testing.T, clock authstore.Clock) authstore.Store {
		db := dynamodb.NewFromConfig(awstest.Config(t, awstest.Moto(t)))
		table := awstest.Name("auth")
		if _, err := db.CreateTable(context.Background(), dynamo.TableInput(table)); err != nil {
			t.Fatalf("create table %s: %v", table, err)
		}
		return dynamo.New(db, table, clock)
	})
}
