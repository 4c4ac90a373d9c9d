package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/awsbackend"
	eventsdynamo "mediashare/internal/events/dynamo"
	viewdynamo "mediashare/internal/projections/dynamo"
)

// moto starts a moto server on a free loopback port and returns its URL
// and how to stop it.
func moto() (string, func(), error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return "", nil, errors.New("moto_server not found: pip install 'moto[server]==5.2.1'")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }
	url := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url, stop, nil
		}
	}
	stop()
	return "", nil, errors.New("moto_server did not answer within 60 s")
}

// rebuildAWS: `mediashare replay --backend aws` on moto over o.awsRows
// ready entries, in items written per second (the view's rows and change
// items, counted after the rebuild); beside a plain BatchWriteItem loop
// writing the same items into a table of the same layout.
func (b *bench) rebuildAWS() error {
	endpoint, stop, err := moto()
	if err != nil {
		return err
	}
	defer stop()
	ctx := context.Background()
	suffix := fmt.Sprint(time.Now().UnixNano())
	cfg := awsbackend.Config{
		Bucket: "bench-media-" + suffix, Table: "bench-entries-" + suffix, EventsTable: "bench-events-" + suffix,
		Region: "us-east-1", Endpoint: endpoint, PathStyle: true,
	}
	if err := awsbackend.Setup(ctx, cfg); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	ac, err := awsbackend.LoadAWSConfig(ctx, cfg)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(ac)
	store := eventsdynamo.New(db, cfg.EventsTable)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	base := time.Now().Add(-time.Duration(b.awsRows) * time.Second)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.awsRows {
					return
				}
				eib, evs, err := entryEvents(i, base.Add(time.Duration(i)*time.Second))
				if err == nil {
					_, err = store.Append(ctx, eib, 0, evs...)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("seed: %w", err)
	}

	start := time.Now()
	out, err := exec.Command(b.bin, "replay", "--backend", "aws", "--bucket", cfg.Bucket, "--table", cfg.Table,
		"--events-table", cfg.EventsTable, "--region", cfg.Region, "--endpoint", endpoint, "--s3-path-style").CombinedOutput()
	ours := time.Since(start)
	if err != nil {
		return fmt.Errorf("mediashare replay --backend aws: %w: %s", err, out)
	}

	// The same items, by a plain loop.
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(cfg.Table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		items = append(items, page.Items...)
	}
	if len(items) == 0 {
		return errors.New("the rebuilt view is empty")
	}
	copyTable := "bench-copy-" + suffix
	if _, err := db.CreateTable(ctx, viewdynamo.TableInput(copyTable)); err != nil {
		return err
	}
	start = time.Now()
	for i := 0; i < len(items); i += 25 {
		var reqs []types.WriteRequest
		for _, it := range items[i:min(i+25, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		pending := map[string][]types.WriteRequest{copyTable: reqs}
		for len(pending) > 0 {
			res, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = res.UnprocessedItems
		}
	}
	loop := time.Since(start)
	n := float64(len(items))
	line("rebuild-aws", n/ours.Seconds(), n/loop.Seconds(), fmt.Sprintf("entries=%d", b.awsRows), fmt.Sprintf("items=%d", len(items)),
		"unit=items/s", fmt.Sprintf("ours_s=%.2f", ours.Seconds()), fmt.Sprintf("loop_s=%.2f", loop.Seconds()))
	return nil
}
