package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

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
		v := dynamo.New(db, table)
		v.Settle = time.Millisecond // the suite reads its own writes at once
		return v
	})
}

// Changes younger than Settle stay hidden, so a reader never steps past
// a change that a slower writer (or the index) has not shown yet.
func TestChangesSettleBeforeTheyAreRead(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(awstest.Config(t, awstest.Moto(t)))
	table := awstest.Name("view")
	if _, err := db.CreateTable(ctx, dynamo.TableInput(table)); err != nil {
		t.Fatal(err)
	}
	v := dynamo.New(db, table)
	v.Settle = 1500 * time.Millisecond
	now := time.Now().UTC()
	if _, err := v.Put(ctx, projections.Entry{EIB: "01M8AAAAAAAAAAAAAAAAAAAAAA", Timestamp: now, UpdatedAt: now, Title: "t", Status: projections.Processing, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if cs, err := v.Changes(ctx, "", 10); err != nil || len(cs) != 0 {
		t.Fatalf("a fresh change was read: %v (%v)", cs, err)
	}
	if last, err := v.LastChange(ctx); err != nil || last != "" {
		t.Fatalf("LastChange gave a fresh change: %q (%v)", last, err)
	}
	time.Sleep(1600 * time.Millisecond)
	cs, err := v.Changes(ctx, "", 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("a settled change: %v (%v), want one", cs, err)
	}
	if last, _ := v.LastChange(ctx); last != cs[0].Position {
		t.Errorf("LastChange %q, want %q", last, cs[0].Position)
	}
}

func TestRetains(t *testing.T) {
	v := dynamo.New(nil, "unused")
	at := func(d time.Duration) string {
		return fmt.Sprintf("%013d#01M8AAAAAAAAAAAAAAAAAAAAAA#%010d", time.Now().Add(-d).UnixMilli(), 1)
	}
	tests := []struct {
		name string
		pos  string
		want bool
	}{
		{"a minute ago", at(time.Minute), true},
		{"a day and a half ago", at(36 * time.Hour), false},
		{"not a position", "garbage", false},
	}
	for _, tt := range tests {
		if got := v.Retains(tt.pos); got != tt.want {
			t.Errorf("%s: Retains = %v, want %v", tt.name, got, tt.want)
		}
	}
}
