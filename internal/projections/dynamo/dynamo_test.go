package dynamo_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"mediashare/internal/awstest"
	"mediashare/internal/projections"
	"mediashare/internal/projections/dynamo"
	"mediashare/internal/projections/viewtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.Stop()
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	viewtest.Run(t, func(t *testing.T) projections.View {
		db := dynamodb.NewFromConfig(awstest.Config(t, awstest.Moto(t)))
		table := awstest.Name("view")
		if _, err := db.CreateTable(context.Background(), dynamo.TableInput(table)); err != nil {
			t.Fatalf("create table %s: %v", table, err)
		}
		return dynamo.New(db, table)
	})
}
