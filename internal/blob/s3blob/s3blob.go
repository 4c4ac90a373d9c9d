// Package s3blob is the blob store on Amazon S3 (or any S3-compatible
// endpoint): one object per key under an optional prefix, uploaded in
// parts by the SDK's upload manager, every object with its Content-Type
// and Cache-Control, and read back through lazy ranged GETs so that HTTP
// range requests fetch only what they serve.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"mediashare/internal/blob"
)

var _ blob.Store = (*Store)(nil)

// Defaults.
const (
	// DefaultCacheControl suits mediashare's keys, which never change meaning.
	DefaultCacheControl = "public, max-age=31536000, immutable"
	// DefaultTimeout bounds each metadata call (HEAD, DELETE).
	DefaultTimeout = 10 * time.Second
	// DefaultTransferTimeout bounds an upload, or one ranged GET and the
	// reading of its body.
	DefaultTransferTimeout = 10 * time.Minute
	// DefaultPartSize is the multipart part size: bodies larger than this
	// are uploaded in parts, in parallel.
	DefaultPartSize = 8 << 20
)

// Store is a blob.Store on one S3 bucket.
type Store struct {
	client *s3.Client
	bucket string
	prefix string

	// CacheControl is set on every object (DefaultCacheControl when empty).
	CacheControl string
	// Timeout bounds each metadata call; TransferTimeout each upload and
	// each ranged read (defaults above).
	Timeout, TransferTimeout time.Duration
	// PartSize is the multipart part size (DefaultPartSize when zero).
	PartSize int64
}

// New returns a store on bucket, with keys under prefix ("" for none; a
// missing trailing slash is added). Path-style addressing, endpoint and
// credentials are the client's (s3.Options.UsePathStyle).
func New(client *s3.Client, bucket, prefix string) *Store {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Store{client: client, bucket: bucket, prefix: prefix}
}

func (s *Store) objectKey(key string) (string, error) {
	if !blob.ValidKey(key) {
		return "", fmt.Errorf("s3blob: invalid key %q", key)
	}
	return s.prefix + key, nil
}

func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(s.Timeout, DefaultTimeout))
}

func (s *Store) transfer(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(s.TransferTimeout, DefaultTransferTimeout))
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Store) cacheControl() string {
	if s.CacheControl == "" {
		return DefaultCacheControl
	}
	return s.CacheControl
}

// isNotFound reports whether err says the object (or bucket) is missing.
func isNotFound(err error) bool {
	var (
		nf *types.NotFound
		nk *types.NoSuchKey
		re *awshttp.ResponseError
	)
	return errors.As(err, &nf) || errors.As(err, &nk) || (errors.As(err, &re) && re.HTTPStatusCode() == 404)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Put implements blob.Store. The upload manager sends small bodies in one
// PUT and larger ones in parts; a failed upload is aborted, so nothing is
// left behind and the previous object, if any, stays.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, contentType string) (blob.Info, error) {
	body := &countingReader{r: r}
	return s.upload(ctx, key, body, contentType, func() int64 { return body.n })
}

// upload sends body under key; sent says, once it is sent, how many
// bytes it held, which the stored object must have.
func (s *Store) upload(ctx context.Context, key string, body io.Reader, contentType string, sent func() int64) (blob.Info, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return blob.Info{}, err
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	//lint:ignore SA1019 the issue asks for manager.Uploader; transfermanager is not in go.mod
	up := manager.NewUploader(s.client, func(u *manager.Uploader) {
		u.PartSize = s.PartSize
		if u.PartSize <= 0 {
			u.PartSize = DefaultPartSize
		}
	})
	c, cancel := s.transfer(ctx)
	defer cancel()
	//lint:ignore SA1019 see above
	_, err = up.Upload(c, &s3.PutObjectInput{
		Bucket:       aws.String(s.bucket),
		Key:          aws.String(k),
		Body:         body,
		ContentType:  aws.String(contentType),
		CacheControl: aws.String(s.cacheControl()),
	})
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: put s3://%s/%s: %w", s.bucket, k, err)
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: put s3://%s/%s: %w", s.bucket, k, err)
	}
	if n := sent(); info.Size != n {
		return blob.Info{}, fmt.Errorf("s3blob: put s3://%s/%s: stored %d bytes, sent %d", s.bucket, k, info.Size, n)
	}
	return info, nil
}

// PutFile implements blob.Store: the local file is uploaded as Put
// uploads it, in parts read from the file at their offsets (the upload
// manager reads a file in parallel without buffering it); the file stays
// where it is. sum is not sent: S3 keeps checksums of its own.
func (s *Store) PutFile(ctx context.Context, key, path, contentType, sum string) (blob.Info, error) {
	if _, err := s.objectKey(key); err != nil {
		return blob.Info{}, err
	}
	if !blob.ValidSHA256(sum) {
		return blob.Info{}, fmt.Errorf("s3blob: put %s: %q is not a SHA-256 in hex", key, sum)
	}
	f, err := os.Open(path)
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: put %s from %s: %w", key, path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: put %s from %s: %w", key, path, err)
	}
	if !st.Mode().IsRegular() {
		return blob.Info{}, fmt.Errorf("s3blob: put %s: %s is not a regular file", key, path)
	}
	// The file itself, not a wrapper: the manager reads a ReaderAt's
	// parts in place instead of buffering each one.
	return s.upload(ctx, key, f, contentType, st.Size)
}

// Stat implements blob.Store with a HEAD request.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return blob.Info{}, err
	}
	c, cancel := s.call(ctx)
	defer cancel()
	out, err := s.client.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if isNotFound(err) {
		return blob.Info{}, blob.ErrNotFound
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: head s3://%s/%s: %w", s.bucket, k, err)
	}
	return blob.Info{
		Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType),
		ETag: quote(aws.ToString(out.ETag)), ModTime: aws.ToTime(out.LastModified).UTC(),
	}, nil
}

// quote returns the ETag quoted as HTTP wants it (S3 sends it quoted).
func quote(etag string) string {
	if etag == "" || strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/"`) {
		return etag
	}
	return strconv.Quote(etag)
}

// Open implements blob.Store. It sends one HEAD; bytes are fetched when
// read, from the current offset, pinned to the ETag seen by the HEAD.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	k, _ := s.objectKey(key)
	return &object{s: s, ctx: ctx, key: k, info: info}, nil
}

// Delete implements blob.Store; deleting a missing key succeeds (S3's
// DELETE is idempotent).
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	c, cancel := s.call(ctx)
	defer cancel()
	if _, err := s.client.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)}); err != nil && !isNotFound(err) {
		return fmt.Errorf("s3blob: delete s3://%s/%s: %w", s.bucket, k, err)
	}
	return nil
}

// Ping implements blob.Store with HeadBucket.
func (s *Store) Ping(ctx context.Context) error {
	c, cancel := s.call(ctx)
	defer cancel()
	if _, err := s.client.HeadBucket(c, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("s3blob: ping: head bucket %s: %w", s.bucket, err)
	}
	return nil
}

// object reads an S3 object lazily with ranged GETs. Like an HTTP
// response body it keeps the context it was opened with: reads stop when
// the request that opened it ends.
type object struct {
	s    *Store
	ctx  context.Context
	key  string
	info blob.Info

	off    int64
	body   io.ReadCloser // the open ranged GET, nil when none
	cancel context.CancelFunc
}

func (o *object) Info() blob.Info { return o.info }

// rangedRead turns off response checksum validation for a ranged GET: S3
// holds checksums of whole objects (or parts), which a range cannot match.
func rangedRead(o *s3.Options) {
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	o.DisableLogOutputChecksumValidationSkipped = true
}

func (o *object) Read(p []byte) (int, error) {
	if o.off >= o.info.Size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if o.body == nil {
		c, cancel := o.s.transfer(o.ctx)
		out, err := o.s.client.GetObject(c, &s3.GetObjectInput{
			Bucket:  aws.String(o.s.bucket),
			Key:     aws.String(o.key),
			Range:   aws.String(fmt.Sprintf("bytes=%d-", o.off)),
			IfMatch: aws.String(o.info.ETag),
		}, rangedRead)
		if err != nil {
			cancel()
			if isNotFound(err) {
				return 0, fmt.Errorf("s3blob: read s3://%s/%s: %w", o.s.bucket, o.key, blob.ErrNotFound)
			}
			return 0, fmt.Errorf("s3blob: read s3://%s/%s at %d: %w", o.s.bucket, o.key, o.off, err)
		}
		o.body, o.cancel = out.Body, cancel
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	if err == io.EOF {
		o.closeBody()
		if o.off < o.info.Size {
			err = nil // the next Read opens the rest
			if n == 0 {
				return 0, io.ErrUnexpectedEOF
			}
		}
	} else if err != nil {
		o.closeBody()
		err = fmt.Errorf("s3blob: read s3://%s/%s at %d: %w", o.s.bucket, o.key, o.off, err)
	}
	return n, err
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = o.off + offset
	case io.SeekEnd:
		abs = o.info.Size + offset
	default:
		return o.off, fmt.Errorf("s3blob: seek: bad whence %d", whence)
	}
	if abs < 0 {
		return o.off, fmt.Errorf("s3blob: seek to negative offset %d", abs)
	}
	if abs != o.off {
		o.closeBody()
		o.off = abs
	}
	return abs, nil
}

func (o *object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
	if o.cancel != nil {
		o.cancel()
		o.cancel = nil
	}
}

func (o *object) Close() error {
	o.closeBody()
	return nil
}
