// Package dynamo is the AWS backend's authstore: one DynamoDB table.
//
// Every item has the partition key "pk", "<kind>#<id>": session#<hash>,
// token#<hash>, invite#<hash>, cred#<account> (the password hash) and
// revoked#<account> (the time before which the account's sessions no
// longer count). Sessions, tokens and invites also carry "gsi_pk"
// (session#<account>, token#<account>, or "invite") and "gsi_sk" (created,
// Unix ns), the keys of the index that lists them. DynamoDB's TTL
// ("expires_at", Unix seconds) removes expired items some time after they
// expire; lookups check expiry themselves, and reads of single items are
// strongly consistent. Revoking marks an item "revoked", takes it out of
// the index and sets its TTL to now (the role needs no DeleteItem).
// Listing goes through the index, which is
// eventually consistent: that is why "sign out everywhere" records a
// revoked# time that every lookup checks, rather than relying on the list.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/authstore"
)

var _ authstore.Store = (*Store)(nil)

// Attribute and index names of the table.
const (
	AttrPK    = "pk"
	AttrGSIPK = "gsi_pk"
	AttrGSISK = "gsi_sk"
	AttrTTL   = "expires_at" // the table's TTL attribute, Unix seconds
	ListIndex = "by_list"
)

// TableInput describes the table: what mediashare setup creates.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrGSIPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrGSISK), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(ListIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrGSIPK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrGSISK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	}
}

// How long after expiry DynamoDB may delete an item. Used invites stay a
// week, so their link can say "already used" instead of "not found".
const (
	ttlGrace       = 24 * time.Hour
	inviteTTLGrace = 7 * 24 * time.Hour
)

// Store is an authstore.Store on DynamoDB.
type Store struct {
	db    *dynamodb.Client
	table string
	now   authstore.Clock
}

// New returns a store on table (made with TableInput). now is the store's
// clock; nil means time.Now.
func New(db *dynamodb.Client, table string, now authstore.Clock) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, table: table, now: now}
}

// item is any record of the table. Empty values are left out (so an item
// without gsi_pk is not in the index).
type item struct {
	PK         string   `dynamodbav:"pk"`
	GSIPK      string   `dynamodbav:"gsi_pk,omitempty"`
	GSISK      int64    `dynamodbav:"gsi_sk,omitempty"` // created, Unix ns
	TTL        int64    `dynamodbav:"expires_at,omitempty"`
	Account    string   `dynamodbav:"account,omitempty"`
	Expires    int64    `dynamodbav:"expires,omitempty"` // Unix ns; absent: never
	LastSeen   int64    `dynamodbav:"last_seen,omitempty"`
	UserAgent  string   `dynamodbav:"user_agent,omitempty"`
	IP         string   `dynamodbav:"ip,omitempty"`
	Name       string   `dynamodbav:"name,omitempty"`
	Scopes     []string `dynamodbav:"scopes,omitempty,stringset"`
	LastUsed   int64    `dynamodbav:"last_used,omitempty"`
	CreatedBy  string   `dynamodbav:"created_by,omitempty"`
	Role       string   `dynamodbav:"role,omitempty"`
	ConsumedBy string   `dynamodbav:"consumed_by,omitempty"`
	ConsumedAt int64    `dynamodbav:"consumed_at,omitempty"`
	Hash       string   `dynamodbav:"hash,omitempty"`
	Updated    int64    `dynamodbav:"updated,omitempty"`
	Before     int64    `dynamodbav:"before,omitempty"`
	Revoked    bool     `dynamodbav:"revoked,omitempty"`
}

func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func ttl(expires time.Time, grace time.Duration) int64 {
	if expires.IsZero() {
		return 0
	}
	return expires.Add(grace).Unix()
}

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: &types.AttributeValueMemberS{Value: pk}}
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func isCCF(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Ping implements authstore.Store.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		return fmt.Errorf("authstore/dynamo: ping %s: %w", s.table, err)
	}
	return nil
}

func (s *Store) putNew(ctx context.Context, it item, what string) error {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("authstore/dynamo: create %s: %w", what, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	})
	if isCCF(err) {
		return fmt.Errorf("authstore/dynamo: create %s: %w", what, authstore.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("authstore/dynamo: create %s: %w", what, err)
	}
	return nil
}

func (s *Store) get(ctx context.Context, pk, what string) (item, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return item{}, fmt.Errorf("authstore/dynamo: %s: %w", what, err)
	}
	if out.Item == nil {
		return item{}, authstore.ErrNotFound
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return item{}, fmt.Errorf("authstore/dynamo: %s: %w", what, err)
	}
	return it, nil
}

// revoke marks the item pk revoked, out of the index, and due for TTL
// deletion, on condition cond (with its names and values). It reports
// whether the condition held.
func (s *Store) revoke(ctx context.Context, pk, cond string, names map[string]string, values map[string]types.AttributeValue, what string) (bool, error) {
	names["#pk"], names["#rev"], names["#ttl"], names["#g"] = AttrPK, "revoked", AttrTTL, AttrGSIPK
	values[":true"] = &types.AttributeValueMemberBOOL{Value: true}
	values[":ttl"] = num(s.now().Unix())
	c := "attribute_exists(#pk) AND attribute_not_exists(#rev)"
	if cond != "" {
		c += " AND " + cond
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(pk),
		UpdateExpression:          aws.String("SET #rev = :true, #ttl = :ttl REMOVE #g"),
		ConditionExpression:       aws.String(c),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if isCCF(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("authstore/dynamo: revoke %s: %w", what, err)
	}
	return true, nil
}

// list returns every item of the index partition gsiPK, newest first.
func (s *Store) list(ctx context.Context, gsiPK, what string) ([]item, error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(ListIndex),
		KeyConditionExpression:    aws.String("#g = :g"),
		ExpressionAttributeNames:  map[string]string{"#g": AttrGSIPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": str(gsiPK)},
		ScanIndexForward:          aws.Bool(false),
	}
	var out []item
	for {
		// A plain loop rather than a paginator, so ops/iam_test.go's scan
		// of the calls sees this Query on the index.
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("authstore/dynamo: list %s: %w", what, err)
		}
		var items []item
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("authstore/dynamo: list %s: %w", what, err)
		}
		out = append(out, items...)
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	// Newest first, ties by key, as the SQLite adapter orders them.
	slices.SortStableFunc(out, func(a, b item) int {
		if a.GSISK != b.GSISK {
			if a.GSISK > b.GSISK {
				return -1
			}
			return 1
		}
		switch {
		case a.PK < b.PK:
			return -1
		case a.PK > b.PK:
			return 1
		}
		return 0
	})
	return out, nil
}

const (
	sessionPK  = "session#"
	tokenPK    = "token#"
	invitePK   = "invite#"
	credPK     = "cred#"
	revokedPK  = "revoked#"
	invitesGSI = "invite"
)

func toSession(it item) authstore.Session {
	return authstore.Session{
		TokenHash: it.PK[len(sessionPK):], AccountID: it.Account, Created: fromNS(it.GSISK), Expires: fromNS(it.Expires),
		LastSeen: fromNS(it.LastSeen), UserAgent: it.UserAgent, IP: it.IP,
	}
}

// CreateSession implements authstore.Sessions.
func (s *Store) CreateSession(ctx context.Context, x authstore.Session) error {
	return s.putNew(ctx, item{
		PK: sessionPK + x.TokenHash, GSIPK: sessionPK + x.AccountID, GSISK: ns(x.Created), TTL: ttl(x.Expires, ttlGrace),
		Account: x.AccountID, Expires: ns(x.Expires), LastSeen: ns(x.LastSeen), UserAgent: x.UserAgent, IP: x.IP,
	}, "session")
}

// revokedBefore is the time before which the account's sessions do not count.
func (s *Store) revokedBefore(ctx context.Context, account string) (int64, error) {
	it, err := s.get(ctx, revokedPK+account, "session revocations")
	if errors.Is(err, authstore.ErrNotFound) {
		return 0, nil
	}
	return it.Before, err
}

// Session implements authstore.Sessions.
func (s *Store) Session(ctx context.Context, hash string) (authstore.Session, error) {
	if hash == "" {
		return authstore.Session{}, authstore.ErrNotFound
	}
	it, err := s.get(ctx, sessionPK+hash, "session")
	if err != nil {
		return authstore.Session{}, err
	}
	if it.Revoked || it.Expires <= ns(s.now()) {
		return authstore.Session{}, authstore.ErrNotFound
	}
	before, err := s.revokedBefore(ctx, it.Account)
	if err != nil {
		return authstore.Session{}, err
	}
	if it.GSISK < before {
		return authstore.Session{}, authstore.ErrNotFound
	}
	return toSession(it), nil
}

// TouchSession implements authstore.Sessions.
func (s *Store) TouchSession(ctx context.Context, hash string) error {
	now := ns(s.now())
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(sessionPK + hash),
		UpdateExpression:          aws.String("SET #seen = :now"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND attribute_not_exists(#rev) AND #exp > :now"),
		ExpressionAttributeNames:  map[string]string{"#seen": "last_seen", "#pk": AttrPK, "#exp": "expires", "#rev": "revoked"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now)},
	})
	if isCCF(err) {
		return authstore.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("authstore/dynamo: touch session: %w", err)
	}
	return nil
}

// RevokeSession implements authstore.Sessions.
func (s *Store) RevokeSession(ctx context.Context, account, hash string) error {
	_, err := s.revoke(ctx, sessionPK+hash, "#acct = :acct", map[string]string{"#acct": "account"},
		map[string]types.AttributeValue{":acct": str(account)}, "session")
	return err
}

// RevokeSessions implements authstore.Sessions: first the revoked# time
// (which makes every older session stop working at once), then the
// sessions the index lists are revoked one by one.
func (s *Store) RevokeSessions(ctx context.Context, account string) error {
	now := ns(s.now())
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(revokedPK + account),
		UpdateExpression:          aws.String("SET #before = :now"),
		ConditionExpression:       aws.String("attribute_not_exists(#before) OR #before < :now"),
		ExpressionAttributeNames:  map[string]string{"#before": "before"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now)},
	})
	if err != nil && !isCCF(err) { // a later revocation is already recorded: fine
		return fmt.Errorf("authstore/dynamo: revoke sessions: %w", err)
	}
	items, err := s.list(ctx, sessionPK+account, "sessions")
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.GSISK >= now {
			continue
		}
		if _, err := s.revoke(ctx, it.PK, "", map[string]string{}, map[string]types.AttributeValue{}, "sessions"); err != nil {
			return err
		}
	}
	return nil
}

// Sessions implements authstore.Sessions.
func (s *Store) Sessions(ctx context.Context, account string) ([]authstore.Session, error) {
	items, err := s.list(ctx, sessionPK+account, "sessions")
	if err != nil {
		return nil, err
	}
	before, err := s.revokedBefore(ctx, account)
	if err != nil {
		return nil, err
	}
	now := ns(s.now())
	var out []authstore.Session
	for _, it := range items {
		if !it.Revoked && it.Expires > now && it.GSISK >= before {
			out = append(out, toSession(it))
		}
	}
	return out, nil
}

func toToken(it item) authstore.Token {
	return authstore.Token{
		TokenHash: it.PK[len(tokenPK):], AccountID: it.Account, Name: it.Name, Scopes: scopeOrder(it.Scopes),
		Created: fromNS(it.GSISK), Expires: fromNS(it.Expires), LastUsed: fromNS(it.LastUsed),
	}
}

// scopeOrder puts a string set (unordered in DynamoDB) in the order of
// authstore.Scopes, unknown ones last.
func scopeOrder(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, 0, len(ss))
	for _, sc := range authstore.Scopes {
		if slices.Contains(ss, sc) {
			out = append(out, sc)
		}
	}
	for _, sc := range ss {
		if !slices.Contains(authstore.Scopes, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func (s *Store) tokenLive(it item) bool {
	return !it.Revoked && (it.Expires == 0 || it.Expires > ns(s.now()))
}

// CreateToken implements authstore.Tokens.
func (s *Store) CreateToken(ctx context.Context, x authstore.Token) error {
	return s.putNew(ctx, item{
		PK: tokenPK + x.TokenHash, GSIPK: tokenPK + x.AccountID, GSISK: ns(x.Created), TTL: ttl(x.Expires, ttlGrace),
		Account: x.AccountID, Name: x.Name, Scopes: x.Scopes, Expires: ns(x.Expires), LastUsed: ns(x.LastUsed),
	}, "token")
}

// Token implements authstore.Tokens.
func (s *Store) Token(ctx context.Context, hash string) (authstore.Token, error) {
	if hash == "" {
		return authstore.Token{}, authstore.ErrNotFound
	}
	it, err := s.get(ctx, tokenPK+hash, "token")
	if err != nil {
		return authstore.Token{}, err
	}
	if !s.tokenLive(it) {
		return authstore.Token{}, authstore.ErrNotFound
	}
	return toToken(it), nil
}

const liveTokenCond = "(attribute_not_exists(#exp) OR #exp > :now)"

// TouchToken implements authstore.Tokens.
func (s *Store) TouchToken(ctx context.Context, hash string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(tokenPK + hash),
		UpdateExpression:          aws.String("SET #used = :now"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND attribute_not_exists(#rev) AND " + liveTokenCond),
		ExpressionAttributeNames:  map[string]string{"#used": "last_used", "#pk": AttrPK, "#exp": "expires", "#rev": "revoked"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(ns(s.now()))},
	})
	if isCCF(err) {
		return authstore.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("authstore/dynamo: touch token: %w", err)
	}
	return nil
}

// RevokeToken implements authstore.Tokens.
func (s *Store) RevokeToken(ctx context.Context, account, hash string) error {
	ok, err := s.revoke(ctx, tokenPK+hash, "#acct = :acct AND "+liveTokenCond, map[string]string{"#acct": "account", "#exp": "expires"},
		map[string]types.AttributeValue{":acct": str(account), ":now": num(ns(s.now()))}, "token")
	if err == nil && !ok {
		return authstore.ErrNotFound
	}
	return err
}

// Tokens implements authstore.Tokens.
func (s *Store) Tokens(ctx context.Context, account string) ([]authstore.Token, error) {
	items, err := s.list(ctx, tokenPK+account, "tokens")
	if err != nil {
		return nil, err
	}
	var out []authstore.Token
	for _, it := range items {
		if s.tokenLive(it) {
			out = append(out, toToken(it))
		}
	}
	return out, nil
}

func toInvite(it item) authstore.Invite {
	return authstore.Invite{
		TokenHash: it.PK[len(invitePK):], CreatedBy: it.CreatedBy, Role: it.Role, Created: fromNS(it.GSISK),
		Expires: fromNS(it.Expires), ConsumedBy: it.ConsumedBy, ConsumedAt: fromNS(it.ConsumedAt),
	}
}

// CreateInvite implements authstore.Invites.
func (s *Store) CreateInvite(ctx context.Context, x authstore.Invite) error {
	return s.putNew(ctx, item{
		PK: invitePK + x.TokenHash, GSIPK: invitesGSI, GSISK: ns(x.Created), TTL: ttl(x.Expires, inviteTTLGrace),
		CreatedBy: x.CreatedBy, Role: x.Role, Expires: ns(x.Expires), ConsumedBy: x.ConsumedBy, ConsumedAt: ns(x.ConsumedAt),
	}, "invite")
}

func (s *Store) usable(it item) error {
	switch {
	case it.Revoked:
		return authstore.ErrNotFound
	case it.ConsumedBy != "":
		return authstore.ErrInviteUsed
	case it.Expires <= ns(s.now()):
		return authstore.ErrInviteExpired
	}
	return nil
}

// Invite implements authstore.Invites.
func (s *Store) Invite(ctx context.Context, hash string) (authstore.Invite, error) {
	if hash == "" {
		return authstore.Invite{}, authstore.ErrNotFound
	}
	it, err := s.get(ctx, invitePK+hash, "invite")
	if err != nil {
		return authstore.Invite{}, err
	}
	if err := s.usable(it); err != nil {
		return authstore.Invite{}, err
	}
	return toInvite(it), nil
}

// ConsumeInvite implements authstore.Invites: one conditional update, so
// exactly one of concurrent consumers wins.
func (s *Store) ConsumeInvite(ctx context.Context, hash, account string) (authstore.Invite, error) {
	if hash == "" {
		return authstore.Invite{}, authstore.ErrNotFound
	}
	now := ns(s.now())
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(invitePK + hash),
		UpdateExpression:          aws.String("SET #by = :by, #at = :now"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND attribute_not_exists(#rev) AND attribute_not_exists(#by) AND #exp > :now"),
		ExpressionAttributeNames:  map[string]string{"#by": "consumed_by", "#at": "consumed_at", "#pk": AttrPK, "#exp": "expires", "#rev": "revoked"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":by": str(account), ":now": num(now)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isCCF(err) {
		if _, err := s.Invite(ctx, hash); err != nil {
			return authstore.Invite{}, err
		}
		return authstore.Invite{}, authstore.ErrInviteUsed
	}
	if err != nil {
		return authstore.Invite{}, fmt.Errorf("authstore/dynamo: consume invite: %w", err)
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return authstore.Invite{}, fmt.Errorf("authstore/dynamo: consume invite: %w", err)
	}
	return toInvite(it), nil
}

// ReleaseInvite implements authstore.Invites: one conditional update
// (consumed by this account and not revoked).
func (s *Store) ReleaseInvite(ctx context.Context, hash, account string) error {
	if hash == "" || account == "" {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(invitePK + hash),
		UpdateExpression:          aws.String("REMOVE #by, #at"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND attribute_not_exists(#rev) AND #by = :by"),
		ExpressionAttributeNames:  map[string]string{"#by": "consumed_by", "#at": "consumed_at", "#pk": AttrPK, "#rev": "revoked"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":by": str(account)},
	})
	if isCCF(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("authstore/dynamo: release invite: %w", err)
	}
	return nil
}

// RevokeInvite implements authstore.Invites.
func (s *Store) RevokeInvite(ctx context.Context, hash string) error {
	_, err := s.revoke(ctx, invitePK+hash, "", map[string]string{}, map[string]types.AttributeValue{}, "invite")
	return err
}

// Invites implements authstore.Invites.
func (s *Store) Invites(ctx context.Context) ([]authstore.Invite, error) {
	items, err := s.list(ctx, invitesGSI, "invites")
	if err != nil {
		return nil, err
	}
	var out []authstore.Invite
	for _, it := range items {
		if s.usable(it) == nil {
			out = append(out, toInvite(it))
		}
	}
	return out, nil
}

// SetCredential implements authstore.Credentials.
func (s *Store) SetCredential(ctx context.Context, c authstore.Credential) error {
	av, err := attributevalue.MarshalMap(item{PK: credPK + c.AccountID, Account: c.AccountID, Hash: c.Hash, Updated: ns(c.Updated)})
	if err != nil {
		return fmt.Errorf("authstore/dynamo: set credential: %w", err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}); err != nil {
		return fmt.Errorf("authstore/dynamo: set credential: %w", err)
	}
	return nil
}

// Credential implements authstore.Credentials.
func (s *Store) Credential(ctx context.Context, account string) (authstore.Credential, error) {
	if account == "" {
		return authstore.Credential{}, authstore.ErrNotFound
	}
	it, err := s.get(ctx, credPK+account, "credential")
	if err != nil {
		return authstore.Credential{}, err
	}
	return authstore.Credential{AccountID: it.Account, Hash: it.Hash, Updated: fromNS(it.Updated)}, nil
}
