// Package blob holds the port for media storage: originals and
// thumbnails, addressed by key. Adapters live in subpackages (fileblob for
// the embedded backend); blobtest is the conformance suite.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned for a key that holds nothing.
var ErrNotFound = errors.New("blob: not found")

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ETag        string // strong validator, quoted as HTTP wants it
	ModTime     time.Time
}

// Object is an open stored object. It supports Seek so that HTTP range
// requests can be served.
type Object interface {
	io.ReadSeekCloser
	Info() Info
}

// Store stores blobs.
type Store interface {
	// Put stores r's bytes under key with the content type, replacing any
	// previous object. The object is visible only once it is durably and
	// completely written; a failed Put leaves nothing behind.
	Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error)
	// PutFile stores the bytes of the local file at path under key, as Put
	// does, with the same durability; sha256 is their checksum (lower-case
	// hex), which the caller computed while it had them. The store may take
	// the file rather than copy it (fileblob renames it into place when it
	// lies on the same file system), so the file at path may be gone
	// afterwards; the caller removes it if it is still there. A failed
	// PutFile stores nothing.
	PutFile(ctx context.Context, key, path, contentType, sha256 string) (Info, error)
	// Open opens the object at key, or returns ErrNotFound.
	Open(ctx context.Context, key string) (Object, error)
	// Stat describes the object at key, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object at key. Deleting a missing key succeeds.
	Delete(ctx context.Context, key string) error
	// Ping reports whether the store is reachable and writable.
	Ping(ctx context.Context) error
}

// ValidKey reports whether key is acceptable: 1 to 512 characters of
// letters, digits and ".-_/", no empty, "." or ".." segment, no leading
// slash. Adapters reject other keys so that no key escapes its root.
func ValidKey(key string) bool {
	if len(key) == 0 || len(key) > 512 || key[0] == '/' || key[len(key)-1] == '/' {
		return false
	}
	seg := 0
	for i := 0; i <= len(key); i++ {
		if i == len(key) || key[i] == '/' {
			s := key[seg:i]
			if s == "" || s == "." || s == ".." {
				return false
			}
			seg = i + 1
			continue
		}
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidSHA256 reports whether sum is a SHA-256 in lower-case hex, as
// PutFile takes it.
func ValidSHA256(sum string) bool {
	if len(sum) != 64 {
		return false
	}
	for i := 0; i < len(sum); i++ {
		if c := sum[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
