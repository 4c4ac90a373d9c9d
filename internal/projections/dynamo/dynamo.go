// Package dynamo is the entries view on DynamoDB: one item per entry keyed
// by eib, with the attributes of the original application (eib, eid,
// timestamp, title, comment, resource, thumbnail, type) and mediashare's
// own. Visible rows also carry gallery = "gallery" and
// gsk = "<timestamp_ms, 13 digits>#<eib>", so the global secondary index
// "gallery" is sparse: it holds exactly the gallery, newest last, and a
// page is one Query read backwards. Projector checkpoints are items of the
// same table under eib "#checkpoint/<name>" (outside the index).
//
// The change log (projections.ChangeLog) is items of the same table too:
// every stored row also writes, in the same transaction, an item
// eib "#change/<position>" with gallery = "#changes" and gsk = position,
// so the gallery index holds the log in its own partition. A position is
// "<ms, 13 digits>#<eib>#<version, 10 digits>", with the milliseconds
// kept increasing within a process. Change items expire after ChangeTTL
// (the table's TTL attribute "expires_at").
//
// The trash and the duplicate check use the same index, so the table
// keeps its layout: a row in the trash carries gallery = "#trash" and
// gsk = "<trash_until_ms, 13 digits>#<eib>" (the trash past its period,
// earliest first), and every stored row writes, in the same transaction,
// two items that copy it: eib "#trash/<eib>" with gallery =
// "#trash/<owner>" while the row is in the trash (an owner's trash), and
// eib "#copy/<eib>" with gallery = "#copy/<owner>/<sha256>" while the
// row is not deleted (an owner's copies of some bytes). Out of those
// states the copy items stay without the index attributes (out of the
// index) and expire by TTL. A third copy, eib "#owner/<eib>" with gallery =
// "#owner/<owner>" and the row's gsk, lists an owner's entries while the
// row is not deleted (the account page, claims, quotas). Rows are written
// with TransactWriteItems (the row conditional on its version, with its
// change and copies); a rebuild loads them with BatchWriteItem (Load).
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"mediashare/internal/projections"
)

var (
	_ projections.View      = (*View)(nil)
	_ projections.ChangeLog = (*View)(nil)
	_ projections.Loader    = (*View)(nil)
)

// Names of the table's key attributes and index.
const (
	AttrEIB          = "eib"     // hash key (S)
	AttrGallery      = "gallery" // the gallery index's partition key (S), on visible rows only
	AttrGallerySort  = "gsk"     // the gallery index's sort key (S): "<timestamp_ms>#<eib>"
	GalleryIndex     = "gallery"
	GalleryPartition = "gallery"
	ChangesPartition = "#changes"   // the change log's partition of the gallery index
	AttrTTL          = "expires_at" // the table's TTL attribute (Unix seconds), set on change items
	checkpointPrefix = "#checkpoint/"
	changePrefix     = "#change/"
	TrashPartition   = "#trash" // the trash of every owner, by end of period
	trashPrefix      = "#trash/"
	copyPrefix       = "#copy/"
	ownedPrefix      = "#owner/" // an owner's entries (not deleted), newest first
	// AuxTTL is how long a copy item out of the index is kept.
	AuxTTL = 7 * 24 * time.Hour
)

// ChangeTTL is how long change items are kept.
const ChangeTTL = 24 * time.Hour

// DefaultTimeout bounds every DynamoDB call.
const DefaultTimeout = 10 * time.Second

// View is a projections.View on a DynamoDB table.
type View struct {
	db    *dynamodb.Client
	table string
	// Timeout bounds each DynamoDB call (DefaultTimeout when zero).
	Timeout time.Duration
	// Settle hides changes younger than this from Changes and LastChange.
	// Positions come from each writer's clock and the change index is
	// read eventually consistently, so a change may appear after a later
	// one; a reader that only takes settled changes does not step past it.
	// It bounds clock skew plus index lag (DefaultSettle when zero).
	Settle time.Duration

	// Writers is how many BatchWriteItem requests Load keeps in flight
	// (DefaultWriters when zero).
	Writers int

	mu     sync.Mutex
	lastMS int64 // the last change position's milliseconds
}

// DefaultWriters is the View's default Writers.
const DefaultWriters = 4

// DefaultSettle is the View's default Settle.
const DefaultSettle = 500 * time.Millisecond

// settledBefore is the smallest position that is not settled yet.
func (v *View) settledBefore() string {
	settle := v.Settle
	if settle <= 0 {
		settle = DefaultSettle
	}
	return fmt.Sprintf("%013d", time.Now().Add(-settle).UnixMilli())
}

// New returns the view on table, which must have the layout of TableInput.
func New(db *dynamodb.Client, table string) *View {
	return &View{db: db, table: table, Timeout: DefaultTimeout}
}

// TableInput describes the view's table: the eib key and the sparse
// gallery index, on-demand capacity.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrEIB), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrGallery), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrGallerySort), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(AttrEIB), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(GalleryIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrGallery), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrGallerySort), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	}
}

// row is an entry as stored. Empty values are left out.
type row struct {
	EIB         string `dynamodbav:"eib"`
	EID         string `dynamodbav:"eid,omitempty"`
	Timestamp   int64  `dynamodbav:"timestamp"` // Unix ms
	Title       string `dynamodbav:"title,omitempty"`
	Comment     string `dynamodbav:"comment,omitempty"`
	Resource    string `dynamodbav:"resource,omitempty"`
	Thumbnail   string `dynamodbav:"thumbnail,omitempty"`
	Type        string `dynamodbav:"type,omitempty"`
	Status      string `dynamodbav:"status,omitempty"`
	Owner       string `dynamodbav:"owner,omitempty"`
	ContentType string `dynamodbav:"content_type,omitempty"`
	Size        int64  `dynamodbav:"size,omitempty"`
	Width       int    `dynamodbav:"width,omitempty"`
	Height      int    `dynamodbav:"height,omitempty"`
	ThumbWidth  int    `dynamodbav:"thumb_width,omitempty"`
	ThumbHeight int    `dynamodbav:"thumb_height,omitempty"`
	Preview     string `dynamodbav:"preview,omitempty"`
	PreviewW    int    `dynamodbav:"preview_width,omitempty"`
	PreviewH    int    `dynamodbav:"preview_height,omitempty"`
	Placeholder string `dynamodbav:"placeholder,omitempty"`
	FailReason  string `dynamodbav:"fail_reason,omitempty"`
	SHA256      string `dynamodbav:"sha256,omitempty"`
	TrashUntil  int64  `dynamodbav:"trash_until,omitempty"` // Unix ms, while in the trash
	Of          string `dynamodbav:"of,omitempty"`          // on copy items: the row's eib
	Version     int    `dynamodbav:"version"`
	UpdatedAt   int64  `dynamodbav:"updated_at"` // Unix ms
	Gallery     string `dynamodbav:"gallery,omitempty"`
	GSK         string `dynamodbav:"gsk,omitempty"`
}

func sortKey(ms int64, eib string) string {
	if ms < 0 {
		ms = 0
	}
	return fmt.Sprintf("%013d#%s", ms, eib)
}

func toRow(e projections.Entry) row {
	r := row{
		EIB: e.EIB, EID: e.EID, Timestamp: e.Timestamp.UnixMilli(), Title: e.Title, Comment: e.Comment,
		Resource: e.Resource, Thumbnail: e.Thumbnail, Type: e.Type, Status: string(e.Status), Owner: e.Owner,
		ContentType: e.ContentType, Size: e.Size, Width: e.Width, Height: e.Height, ThumbWidth: e.ThumbWidth,
		ThumbHeight: e.ThumbHeight, Placeholder: e.Placeholder, FailReason: e.FailReason, Version: e.Version,
		UpdatedAt: e.UpdatedAt.UnixMilli(), Preview: e.Preview, PreviewW: e.PreviewWidth, PreviewH: e.PreviewHeight,
		SHA256: e.SHA256,
	}
	switch {
	case e.Visible():
		r.Gallery, r.GSK = GalleryPartition, sortKey(r.Timestamp, e.EIB)
	case e.InTrash():
		r.TrashUntil = max(e.TrashUntil.UnixMilli(), 1)
		r.Gallery, r.GSK = TrashPartition, sortKey(r.TrashUntil, e.EIB)
	}
	return r
}

// auxItems are the copies of a row that index it by owner: its trash item,
// its copy item and its owner item, in or out of the index as the row's
// state says.
func auxItems(e projections.Entry) ([]map[string]types.AttributeValue, error) {
	expires := &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(AuxTTL).Unix(), 10)}
	trash, cp, own := toRow(e), toRow(e), toRow(e)
	trash.EIB, trash.Of, trash.Gallery, trash.GSK = trashPrefix+e.EIB, e.EIB, "", ""
	cp.EIB, cp.Of, cp.Gallery, cp.GSK = copyPrefix+e.EIB, e.EIB, "", ""
	own.EIB, own.Of, own.Gallery, own.GSK = ownedPrefix+e.EIB, e.EIB, "", ""
	if e.Status != projections.Deleted && e.Owner != "" {
		own.Gallery, own.GSK = ownedPrefix+e.Owner, sortKey(own.Timestamp, e.EIB)
	}
	if e.InTrash() {
		trash.Gallery, trash.GSK = trashPrefix+e.Owner, sortKey(trash.TrashUntil, e.EIB)
	}
	if e.Status != projections.Deleted && e.SHA256 != "" && e.Owner != "" {
		cp.Gallery, cp.GSK = copyPrefix+e.Owner+"/"+e.SHA256, e.EIB
	}
	var out []map[string]types.AttributeValue
	for _, r := range []row{trash, cp, own} {
		av, err := attributevalue.MarshalMap(r)
		if err != nil {
			return nil, err
		}
		if r.Gallery == "" {
			av[AttrTTL] = expires
		}
		out = append(out, av)
	}
	return out, nil
}

func (r row) entry() projections.Entry {
	e := projections.Entry{
		EIB: r.EIB, EID: r.EID, Timestamp: time.UnixMilli(r.Timestamp).UTC(), Title: r.Title, Comment: r.Comment,
		Resource: r.Resource, Thumbnail: r.Thumbnail, Type: r.Type, Status: projections.Status(r.Status), Owner: r.Owner,
		ContentType: r.ContentType, Size: r.Size, Width: r.Width, Height: r.Height, ThumbWidth: r.ThumbWidth,
		ThumbHeight: r.ThumbHeight, Placeholder: r.Placeholder, FailReason: r.FailReason, Version: r.Version,
		UpdatedAt: time.UnixMilli(r.UpdatedAt).UTC(), Preview: r.Preview, PreviewWidth: r.PreviewW, PreviewHeight: r.PreviewH,
		SHA256: r.SHA256, TrashUntil: untilOf(r.TrashUntil),
	}
	if r.Of != "" {
		e.EIB = r.Of
	}
	return e
}

func untilOf(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func (v *View) call(ctx context.Context) (context.Context, context.CancelFunc) {
	d := v.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

func key(eib string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrEIB: &types.AttributeValueMemberS{Value: eib}}
}

// Get implements projections.View with a strongly consistent read.
func (v *View) Get(ctx context.Context, eib string) (projections.Entry, error) {
	if eib == "" || strings.HasPrefix(eib, "#") {
		return projections.Entry{}, projections.ErrNotFound
	}
	c, cancel := v.call(ctx)
	defer cancel()
	out, err := v.db.GetItem(c, &dynamodb.GetItemInput{TableName: aws.String(v.table), Key: key(eib), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return projections.Entry{}, fmt.Errorf("projections/dynamo: get %s from table %s: %w", eib, v.table, err)
	}
	if len(out.Item) == 0 {
		return projections.Entry{}, projections.ErrNotFound
	}
	var r row
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return projections.Entry{}, fmt.Errorf("projections/dynamo: get %s: %w", eib, err)
	}
	return r.entry(), nil
}

// Put implements projections.View: a put conditional on
// attribute_not_exists(eib) OR version < :v, so duplicate and stale
// writes change nothing.
func (v *View) Put(ctx context.Context, e projections.Entry) (bool, error) {
	if e.EIB == "" || strings.HasPrefix(e.EIB, "#") {
		return false, fmt.Errorf("projections/dynamo: put: invalid eib %q", e.EIB)
	}
	av, err := attributevalue.MarshalMap(toRow(e))
	if err != nil {
		return false, fmt.Errorf("projections/dynamo: put %s v%d: encode: %w", e.EIB, e.Version, err)
	}
	aux, err := auxItems(e)
	if err != nil {
		return false, fmt.Errorf("projections/dynamo: put %s v%d: encode: %w", e.EIB, e.Version, err)
	}
	change := v.changeItem(e)
	c, cancel := v.call(ctx)
	defer cancel()
	items := []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                 aws.String(v.table),
			Item:                      av,
			ConditionExpression:       aws.String("attribute_not_exists(#k) OR #v < :v"),
			ExpressionAttributeNames:  map[string]string{"#k": AttrEIB, "#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(e.Version)}},
		}},
		{Put: &types.Put{TableName: aws.String(v.table), Item: change}},
	}
	for _, a := range aux {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(v.table), Item: a}})
	}
	_, err = v.db.TransactWriteItems(c, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("projections/dynamo: put %s v%d in table %s: %w", e.EIB, e.Version, v.table, err)
	}
	return true, nil
}

// changeItem is the change log's item for storing e, at a new position.
func (v *View) changeItem(e projections.Entry) map[string]types.AttributeValue {
	pos := v.nextPosition(e.EIB, e.Version)
	return map[string]types.AttributeValue{
		AttrEIB:         &types.AttributeValueMemberS{Value: changePrefix + pos},
		AttrGallery:     &types.AttributeValueMemberS{Value: ChangesPartition},
		AttrGallerySort: &types.AttributeValueMemberS{Value: pos},
		"change_eib":    &types.AttributeValueMemberS{Value: e.EIB},
		"version":       &types.AttributeValueMemberN{Value: strconv.Itoa(e.Version)},
		AttrTTL:         &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(ChangeTTL).Unix(), 10)},
	}
}

// Loaded implements projections.Loader: Reset set nothing aside.
func (v *View) Loaded(context.Context) error { return nil }

// Load implements projections.Loader: each row's items (the row, its
// change and its three copies, as Put writes them) go out in
// BatchWriteItem requests of 25, Writers of them at a time, unprocessed
// items retried with backoff. The puts are unconditional: the rebuild
// owns the emptied view, and its tail read repairs what a live projector
// wrote meanwhile. Rows must have distinct eibs (a request may not name
// an item twice).
func (v *View) Load(ctx context.Context, rows []projections.Entry) error {
	if len(rows) == 0 {
		return nil
	}
	reqs := make([]types.WriteRequest, 0, 5*len(rows))
	seen := make(map[string]bool, len(rows))
	for _, e := range rows {
		if e.EIB == "" || strings.HasPrefix(e.EIB, "#") {
			return fmt.Errorf("projections/dynamo: load: invalid eib %q", e.EIB)
		}
		if seen[e.EIB] {
			return fmt.Errorf("projections/dynamo: load: %s twice in one load", e.EIB)
		}
		seen[e.EIB] = true
		av, err := attributevalue.MarshalMap(toRow(e))
		if err != nil {
			return fmt.Errorf("projections/dynamo: load %s v%d: encode: %w", e.EIB, e.Version, err)
		}
		aux, err := auxItems(e)
		if err != nil {
			return fmt.Errorf("projections/dynamo: load %s v%d: encode: %w", e.EIB, e.Version, err)
		}
		for _, it := range append([]map[string]types.AttributeValue{av, v.changeItem(e)}, aux...) {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
	}
	writers := v.writers()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []types.WriteRequest)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for b := range batches {
				if err := v.writeBatch(ctx, b); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
feed:
	for i := 0; i < len(reqs); i += 25 {
		select {
		case batches <- reqs[i:min(i+25, len(reqs))]:
		case <-ctx.Done():
			break feed
		}
	}
	close(batches)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("projections/dynamo: load %d rows: %w", len(rows), err)
	}
	return ctx.Err()
}

// writeBatch sends one BatchWriteItem request (puts or deletes), and
// again what it left unprocessed, with backoff.
func (v *View) writeBatch(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(time.Duration(25<<min(attempt, 6)) * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		c, cancel := v.call(ctx)
		out, err := v.db.BatchWriteItem(c, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{v.table: reqs}})
		cancel()
		if err != nil {
			return fmt.Errorf("batch write to table %s: %w", v.table, err)
		}
		reqs = out.UnprocessedItems[v.table]
	}
	return nil
}

// conditionFailed reports whether a transaction was cancelled because the
// row's version condition failed.
func conditionFailed(err error) bool {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		var ccf *types.ConditionalCheckFailedException
		return errors.As(err, &ccf)
	}
	for _, r := range tc.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// nextPosition returns a change position later than every other this
// view has made.
func (v *View) nextPosition(eib string, version int) string {
	v.mu.Lock()
	ms := time.Now().UnixMilli()
	if ms <= v.lastMS {
		ms = v.lastMS + 1
	}
	v.lastMS = ms
	v.mu.Unlock()
	return fmt.Sprintf("%013d#%s#%010d", ms, eib, version)
}

func validChangePosition(p string) bool {
	parts := strings.Split(p, "#")
	if len(parts) != 3 || len(parts[0]) != 13 || parts[1] == "" || len(parts[2]) != 10 {
		return false
	}
	for _, n := range []string{parts[0], parts[2]} {
		if _, err := strconv.ParseUint(n, 10, 64); err != nil {
			return false
		}
	}
	return true
}

// Changes implements projections.ChangeLog: a Query on the change log's
// partition of the gallery index.
func (v *View) Changes(ctx context.Context, after string, limit int) ([]projections.Change, error) {
	if after != "" && !validChangePosition(after) {
		return nil, projections.ErrBadCursor
	}
	if limit <= 0 {
		limit = 100
	}
	cond := "#g = :g AND #s BETWEEN :s AND :u"
	vals := map[string]types.AttributeValue{
		":g": &types.AttributeValueMemberS{Value: ChangesPartition},
		":s": &types.AttributeValueMemberS{Value: after + "\x00"}, // strictly after
		":u": &types.AttributeValueMemberS{Value: v.settledBefore()},
	}
	names := map[string]string{"#g": AttrGallery, "#s": AttrGallerySort}
	if after >= v.settledBefore() {
		return nil, nil // nothing settled after it yet
	}
	return v.changes(ctx, &dynamodb.QueryInput{
		TableName: aws.String(v.table), IndexName: aws.String(GalleryIndex),
		KeyConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		Limit: aws.Int32(int32(limit)),
	})
}

// Retains implements projections.ChangeRetention: change items expire
// after ChangeTTL (an hour is kept in hand for TTL's own lag the other way).
func (v *View) Retains(position string) bool {
	if !validChangePosition(position) {
		return false
	}
	ms, err := strconv.ParseInt(position[:13], 10, 64)
	if err != nil {
		return false
	}
	return time.Since(time.UnixMilli(ms)) < ChangeTTL-time.Hour
}

// LastChange implements projections.ChangeLog.
func (v *View) LastChange(ctx context.Context) (string, error) {
	cs, err := v.changes(ctx, &dynamodb.QueryInput{
		TableName: aws.String(v.table), IndexName: aws.String(GalleryIndex),
		KeyConditionExpression:   aws.String("#g = :g AND #s < :u"),
		ExpressionAttributeNames: map[string]string{"#g": AttrGallery, "#s": AttrGallerySort},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":g": &types.AttributeValueMemberS{Value: ChangesPartition},
			":u": &types.AttributeValueMemberS{Value: v.settledBefore()},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(1),
	})
	if err != nil || len(cs) == 0 {
		return "", err
	}
	return cs[0].Position, nil
}

func (v *View) changes(ctx context.Context, in *dynamodb.QueryInput) ([]projections.Change, error) {
	c, cancel := v.call(ctx)
	defer cancel()
	out, err := v.db.Query(c, in)
	if err != nil {
		return nil, fmt.Errorf("projections/dynamo: read change log in table %s: %w", v.table, err)
	}
	var items []struct {
		GSK     string `dynamodbav:"gsk"`
		EIB     string `dynamodbav:"change_eib"`
		Version int    `dynamodbav:"version"`
	}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("projections/dynamo: read change log: %w", err)
	}
	cs := make([]projections.Change, len(items))
	for i, it := range items {
		cs[i] = projections.Change{Position: it.GSK, EIB: it.EIB, Version: it.Version}
	}
	return cs, nil
}

// parseCursor reads a cursor made by List: the gallery sort key of the
// last entry of the previous page.
func parseCursor(cursor string) (string, bool) {
	ms, eib, ok := strings.Cut(cursor, "#")
	if !ok || len(ms) != 13 || eib == "" || strings.HasPrefix(eib, "#") {
		return "", false
	}
	if _, err := strconv.ParseUint(ms, 10, 64); err != nil {
		return "", false
	}
	return eib, true
}

// List implements projections.View: one Query on the sparse gallery
// index, newest first, resuming at the cursor with ExclusiveStartKey. The
// index is eventually consistent, so a row written a moment ago may
// appear on the next read.
func (v *View) List(ctx context.Context, cursor string, limit int) (projections.Page, error) {
	if limit <= 0 {
		limit = 24
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(v.table),
		IndexName:                 aws.String(GalleryIndex),
		KeyConditionExpression:    aws.String("#g = :g"),
		ExpressionAttributeNames:  map[string]string{"#g": AttrGallery},
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: GalleryPartition}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit + 1)), // one more tells whether a next page exists
	}
	if cursor != "" {
		eib, ok := parseCursor(cursor)
		if !ok {
			return projections.Page{}, projections.ErrBadCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			AttrEIB:         &types.AttributeValueMemberS{Value: eib},
			AttrGallery:     &types.AttributeValueMemberS{Value: GalleryPartition},
			AttrGallerySort: &types.AttributeValueMemberS{Value: cursor},
		}
	}
	c, cancel := v.call(ctx)
	defer cancel()
	out, err := v.db.Query(c, in)
	if err != nil {
		return projections.Page{}, fmt.Errorf("projections/dynamo: list gallery index of table %s: %w", v.table, err)
	}
	var rows []row
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rows); err != nil {
		return projections.Page{}, fmt.Errorf("projections/dynamo: list: %w", err)
	}
	var page projections.Page
	for _, r := range rows {
		page.Entries = append(page.Entries, r.entry())
	}
	if len(rows) > limit {
		page.Entries = page.Entries[:limit]
		page.Next = rows[limit-1].GSK
	}
	return page, nil
}

// query reads rows from the gallery index (in names it).
func (v *View) query(ctx context.Context, in *dynamodb.QueryInput) ([]row, error) {
	c, cancel := v.call(ctx)
	defer cancel()
	out, err := v.db.Query(c, in)
	if err != nil {
		return nil, fmt.Errorf("projections/dynamo: query gallery index of table %s: %w", v.table, err)
	}
	var rows []row
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rows); err != nil {
		return nil, fmt.Errorf("projections/dynamo: query: %w", err)
	}
	return rows, nil
}

// Trash implements projections.View: one Query on the owner's trash
// partition of the gallery index, read backwards.
func (v *View) Trash(ctx context.Context, owner, cursor string, limit int) (projections.Page, error) {
	return v.ownerPage(ctx, trashPrefix, owner, cursor, limit)
}

// Owned implements projections.View: one Query on the owner's partition
// of the gallery index, read backwards.
func (v *View) Owned(ctx context.Context, owner, cursor string, limit int) (projections.Page, error) {
	return v.ownerPage(ctx, ownedPrefix, owner, cursor, limit)
}

// ownerPage is a page of one of owner's partitions of the gallery index
// (prefix names which: the trash, the owned entries), read backwards; its
// cursor is the sort key of the page's last item.
func (v *View) ownerPage(ctx context.Context, prefix, owner, cursor string, limit int) (projections.Page, error) {
	if limit <= 0 {
		limit = 24
	}
	if owner == "" {
		return projections.Page{}, nil
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(v.table), IndexName: aws.String(GalleryIndex),
		KeyConditionExpression:    aws.String("#g = :g"),
		ExpressionAttributeNames:  map[string]string{"#g": AttrGallery},
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: prefix + owner}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit + 1)),
	}
	if cursor != "" {
		eib, ok := parseCursor(cursor)
		if !ok {
			return projections.Page{}, projections.ErrBadCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			AttrEIB:         &types.AttributeValueMemberS{Value: prefix + eib},
			AttrGallery:     &types.AttributeValueMemberS{Value: prefix + owner},
			AttrGallerySort: &types.AttributeValueMemberS{Value: cursor},
		}
	}
	rows, err := v.query(ctx, in)
	if err != nil {
		return projections.Page{}, err
	}
	var page projections.Page
	for _, r := range rows {
		page.Entries = append(page.Entries, r.entry())
	}
	if len(rows) > limit {
		page.Entries = page.Entries[:limit]
		page.Next = rows[limit-1].GSK
	}
	return page, nil
}

// Expired implements projections.View: one Query on the trash partition
// of the gallery index, up to the end of at's millisecond.
func (v *View) Expired(ctx context.Context, at time.Time, limit int) ([]projections.Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := v.query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(v.table), IndexName: aws.String(GalleryIndex),
		KeyConditionExpression:   aws.String("#g = :g AND #s < :u"),
		ExpressionAttributeNames: map[string]string{"#g": AttrGallery, "#s": AttrGallerySort},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":g": &types.AttributeValueMemberS{Value: TrashPartition},
			":u": &types.AttributeValueMemberS{Value: fmt.Sprintf("%013d", max(at.UnixMilli()+1, 0))},
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, err
	}
	out := make([]projections.Entry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

// Copies implements projections.View: one Query on the owner's copies
// partition of the gallery index.
func (v *View) Copies(ctx context.Context, owner, sha256 string) ([]projections.Entry, error) {
	if owner == "" || sha256 == "" {
		return nil, nil
	}
	rows, err := v.query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(v.table), IndexName: aws.String(GalleryIndex),
		KeyConditionExpression:    aws.String("#g = :g"),
		ExpressionAttributeNames:  map[string]string{"#g": AttrGallery},
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: copyPrefix + owner + "/" + sha256}},
		Limit:                     aws.Int32(20),
	})
	if err != nil {
		return nil, err
	}
	out := make([]projections.Entry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

// Reset implements projections.View. It is the one operation that scans
// the table (a rebuild is rare): a parallel Scan of Writers segments,
// each deleting its rows and checkpoints in batches of 25.
func (v *View) Reset(ctx context.Context) error {
	segments := v.writers()
	g, gctx := errgroup.WithContext(ctx)
	for seg := range segments {
		g.Go(func() error { return v.resetSegment(gctx, seg, segments) })
	}
	return g.Wait()
}

func (v *View) writers() int {
	if v.Writers <= 0 {
		return DefaultWriters
	}
	return v.Writers
}

// resetSegment deletes what segment seg of the table's Scan holds.
func (v *View) resetSegment(ctx context.Context, seg, segments int) error {
	var start map[string]types.AttributeValue
	for {
		c, cancel := v.call(ctx)
		out, err := v.db.Scan(c, &dynamodb.ScanInput{
			TableName:                aws.String(v.table),
			ProjectionExpression:     aws.String("#k"),
			ExpressionAttributeNames: map[string]string{"#k": AttrEIB},
			ExclusiveStartKey:        start,
			ConsistentRead:           aws.Bool(true),
			Segment:                  aws.Int32(int32(seg)),
			TotalSegments:            aws.Int32(int32(segments)),
		})
		cancel()
		if err != nil {
			return fmt.Errorf("projections/dynamo: reset: scan table %s (segment %d of %d): %w", v.table, seg, segments, err)
		}
		// Change items stay, as in the embedded view: pollers keep their
		// place, and the items expire by TTL.
		var keys []map[string]types.AttributeValue
		for _, k := range out.Items {
			if s, ok := k[AttrEIB].(*types.AttributeValueMemberS); ok && strings.HasPrefix(s.Value, changePrefix) {
				continue
			}
			keys = append(keys, k)
		}
		for i := 0; i < len(keys); i += 25 {
			batch := keys[i:min(i+25, len(keys))]
			if err := v.deleteBatch(ctx, batch); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

func (v *View) deleteBatch(ctx context.Context, keys []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	}
	if err := v.writeBatch(ctx, reqs); err != nil {
		return fmt.Errorf("projections/dynamo: reset: %w", err)
	}
	return nil
}

// Ping implements projections.View.
func (v *View) Ping(ctx context.Context) error {
	c, cancel := v.call(ctx)
	defer cancel()
	if _, err := v.db.DescribeTable(c, &dynamodb.DescribeTableInput{TableName: aws.String(v.table)}); err != nil {
		return fmt.Errorf("projections/dynamo: ping: describe table %s: %w", v.table, err)
	}
	return nil
}

// Checkpoint implements events.Checkpoints.
func (v *View) Checkpoint(ctx context.Context, name string) (string, error) {
	c, cancel := v.call(ctx)
	defer cancel()
	out, err := v.db.GetItem(c, &dynamodb.GetItemInput{TableName: aws.String(v.table), Key: key(checkpointPrefix + name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("projections/dynamo: checkpoint %s in table %s: %w", name, v.table, err)
	}
	var cp struct {
		Position string `dynamodbav:"position"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &cp); err != nil {
		return "", fmt.Errorf("projections/dynamo: checkpoint %s: %w", name, err)
	}
	return cp.Position, nil
}

// SaveCheckpoint implements events.Checkpoints.
func (v *View) SaveCheckpoint(ctx context.Context, name, position string) error {
	c, cancel := v.call(ctx)
	defer cancel()
	_, err := v.db.PutItem(c, &dynamodb.PutItemInput{
		TableName: aws.String(v.table),
		Item: map[string]types.AttributeValue{
			AttrEIB:    &types.AttributeValueMemberS{Value: checkpointPrefix + name},
			"position": &types.AttributeValueMemberS{Value: position},
		},
	})
	if err != nil {
		return fmt.Errorf("projections/dynamo: save checkpoint %s in table %s: %w", name, v.table, err)
	}
	return nil
}
