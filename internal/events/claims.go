package events

// EntryClaimed: an entry uploaded anonymously (owned by a browser's owner
// cookie) now belongs to an account, because that browser signed up or
// signed in. Its actor is the account.
const EntryClaimed Type = "EntryClaimed"

// Claimed is the payload of EntryClaimed.
type Claimed struct {
	Account string `json:"account"` // the account id the entry now belongs to
	From    string `json:"from"`    // the anonymous owner id it belonged to
}
