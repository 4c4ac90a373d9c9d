package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/authstore"
	"mediashare/internal/web"
)

// tokens runs `mediashare tokens create|list|revoke`: personal API tokens
// of an account, on the configured backend.
func tokensCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const tokensUsage = "usage: mediashare tokens create --user NAME --scopes read,upload,delete [--expires 720h] [--name N] [--sharex FILE --public-url URL]\n" +
		"       mediashare tokens list --user NAME\n       mediashare tokens revoke --user NAME --id ID\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, tokensUsage)
		return errors.New("tokens: say create, list or revoke")
	}
	sub := args[0]
	switch sub {
	case "create", "list", "revoke":
	case "-h", "--help", "help":
		fmt.Fprint(stdout, tokensUsage)
		return nil
	default:
		fmt.Fprint(stderr, tokensUsage)
		return fmt.Errorf("tokens: unknown command %q", sub)
	}
	var c config
	fs := newFlagSet("tokens "+sub, &c)
	fs.SetOutput(stderr)
	var user, scopes, name, id, sharex string
	var expires time.Duration
	fs.StringVar(&user, "user", "", "the account's username")
	if sub == "create" {
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes: read, upload, delete")
		fs.DurationVar(&expires, "expires", 0, "how long the token works, e.g. 720h (default: until revoked)")
		fs.StringVar(&name, "name", "cli", "a name to tell the token apart on /account")
		fs.StringVar(&sharex, "sharex", "", "also write a ShareX uploader (.sxcu) for the token to this file (needs --public-url)")
	}
	if sub == "revoke" {
		fs.StringVar(&id, "id", "", "the token's id, as tokens list shows it")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("tokens %s: unexpected argument %q", sub, fs.Arg(0))
	}
	if user == "" {
		return fmt.Errorf("tokens %s: --user is required", sub)
	}
	if err := c.validate(); err != nil {
		return err
	}
	if err := c.resolveAWS(ctx); err != nil {
		return err
	}
	// Check the flags before touching storage.
	var scopeList []string
	if sub == "create" {
		var err error
		if scopeList, err = authstore.ParseScopes(scopes); err != nil {
			return fmt.Errorf("--scopes: %s", apperr.MessageOf(err))
		}
		if name, err = authstore.CheckTokenName(name); err != nil {
			return fmt.Errorf("--name: %s", apperr.MessageOf(err))
		}
		if expires < 0 {
			return errors.New("--expires must be positive (or 0: until revoked)")
		}
		if sharex != "" && c.PublicURL == "" {
			return errors.New("--sharex needs --public-url: the address ShareX sends uploads to")
		}
	}
	if sub == "revoke" && !authstore.ValidHash(id) {
		return fmt.Errorf("--id %q is not a token id (64 hex digits, as tokens list shows)", id)
	}
	log := newLogger(c, stderr)
	be, err := openBackend(ctx, c, log)
	if err != nil {
		return err
	}
	defer be.Close()
	acct, err := accountByName(ctx, be.Events, user)
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		secret, hash, err := authstore.NewSecret(authstore.TokenPrefix)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		t := authstore.Token{TokenHash: hash, AccountID: acct.ID, Name: name, Scopes: scopeList, Created: now}
		if expires > 0 {
			t.Expires = now.Add(expires)
		}
		if err := be.Auth.CreateToken(ctx, t); err != nil {
			return fmt.Errorf("tokens create: %w", err)
		}
		if sharex != "" {
			b, err := web.ShareXConfig(c.PublicURL, secret)
			if err == nil {
				err = os.WriteFile(sharex, b, 0o600)
			}
			if err != nil {
				be.Auth.RevokeToken(context.WithoutCancel(ctx), acct.ID, hash)
				return fmt.Errorf("--sharex: %w (the token was revoked)", err)
			}
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "token %q for %s (id %s, scopes %s): shown once, keep it safe\n", name, acct.Name, hash, strings.Join(scopeList, ","))
		return nil
	case "list":
		ts, err := be.Auth.Tokens(ctx, acct.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.TokenHash, t.Name, strings.Join(t.Scopes, ","), stampOr(t.Created, "-"), stampOr(t.Expires, "never"), stampOr(t.LastUsed, "never"))
		}
		return tw.Flush()
	default:
		if err := be.Auth.RevokeToken(ctx, acct.ID, id); errors.Is(err, authstore.ErrNotFound) {
			return fmt.Errorf("tokens revoke: %s has no live token %s", acct.Name, id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", id)
		return nil
	}
}

func stampOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}

// parseInterspersed parses flags that may come after positional
// arguments (mediashare upload a.jpg b.jpg --server …), returning the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
