package dynamo_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/awstest"
	"mediashare/internal/keyring/dynamo"
	"mediashare/internal/keyring/keyringtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.Stop()
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	keyringtest.Run(t, func(t *testing.T) keyringtest.Subject {
		db := dynamodb.NewFromConfig(awstest.Config(t, awstest.Moto(t)))
		table := awstest.Name("keys")
		if _, err := db.CreateTable(context.Background(), dynamo.TableInput(table)); err != nil {
			t.Fatalf("create table %s: %v", table, err)
		}
		return keyringtest.Subject{Store: dynamo.New(db, table), Raw: func(t *testing.T) []byte {
			return scan(t, db, table)
		}}
	})
}

// scan returns every binary and string value of every item in the table.
func scan(t *testing.T, db *dynamodb.Client, table string) []byte {
	t.Helper()
	var all []byte
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			for _, v := range it {
				switch v := v.(type) {
				case *types.AttributeValueMemberB:
					all = append(all, v.Value...)
				case *types.AttributeValueMemberS:
					all = append(all, v.Value...)
				}
			}
		}
	}
	return all
}
