// Command mediashare runs the media sharing site.
//
//	mediashare serve    run the site (embedded backend: ./data, :8080)
//	mediashare replay   rebuild the entries view from the events
//	mediashare events   print the event log (--follow, --json)
//	mediashare setup    create the AWS bucket and tables (--backend aws)
//	mediashare entries erase EIB --reason TEXT   erase an entry for good
//	mediashare thumbnail FILE OUT   make FILE's thumbnail as the site would
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"mediashare/internal/awsbackend"
)

func main() {
	// bild's parallel package sets GOMAXPROCS to every CPU when it loads;
	// go back to the runtime's default, which respects container CPU quotas.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.SetDefaultGOMAXPROCS()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mediashare:", err)
		os.Exit(1)
	}
}

const usage = `usage: mediashare <command> [flags]

commands:
  serve    run the site (default: embedded backend, data in ./data, on :8080)
  replay   rebuild the entries view from the events
  events   print the event log, oldest first (--follow keeps printing, --json for NDJSON)
  purge    delete entries for good at once, as an admin: mediashare purge [flags] EIB... (from the gallery or the trash; the blobs go when a serve's reactor handles it)
  users    add, list and disable accounts (users add NAME [--admin] reads the password from stdin)
  setup    create (or check) the bucket and tables of --backend aws; running it twice changes nothing
  entries erase EIB --reason TEXT
           erase an entry: its title, comment and file name are shredded, its files removed;
           the audit log keeps that it was erased, when, by the operator and why
  version  print the version, the platform and which image decoders this build has
  tokens   personal API tokens: create --user NAME --scopes read,upload,delete [--expires 720h], list --user NAME, revoke --user NAME --id ID
  upload   upload files through a server's API: upload FILE... --server URL --token-file F [--title T --comment C]
  entries list --server URL
           list a server's entries as JSON, through its API
  thumbnail make a file's grid thumbnail as the site would: mediashare thumbnail [flags] FILE OUT (writes OUT, a PNG)

Run 'mediashare <command> -h' for a command's flags. Every flag has an
environment twin: --max-pixels is MEDIASHARE_MAX_PIXELS.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	var c config
	fs := newFlagSet(args[0], &c)
	fs.SetOutput(stderr)
	var target string // entries erase: the entry
	switch args[0] {
	case "serve", "replay", "events", "setup", "purge", "users":
	case "entries":
		if len(args) > 1 && args[1] == "list" {
			return entriesCommand(ctx, args[1:], stdout, stderr)
		}
		var err error
		if args, target, err = entriesArgs(args); err != nil {
			fmt.Fprint(stderr, usage)
			return err
		}
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return nil
	case "tokens":
		return tokensCommand(ctx, args[1:], stdout, stderr)
	case "upload":
		return uploadCommand(ctx, args[1:], stdout, stderr)
	case "thumbnail":
		return thumbnailCommand(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	flagArgs := args[1:]
	var usersSub, usersName string
	if args[0] == "users" {
		usersSub, usersName, flagArgs = splitUsersArgs(flagArgs)
	}
	if err := parse(fs, flagArgs); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if err := c.resolveAWS(ctx); err != nil {
		return err
	}
	log := newLogger(c, stderr)
	switch args[0] {
	case "serve":
		c.sizeMemory(log)
		return serve(ctx, c, log, nil)
	case "events":
		return printEvents(ctx, c, log, stdout)
	case "users":
		return users(ctx, c, log, usersSub, usersName, os.Stdin, stdout)
	case "purge":
		return purge(ctx, c, log, fs.Args(), stdout)
	case "entries":
		return eraseEntry(ctx, c, log, target, stdout)
	case "setup":
		if c.Backend != "aws" {
			return errors.New("setup: only --backend aws has resources to create; the embedded backend makes its files on start")
		}
		if err := awsbackend.Setup(ctx, c.AWS); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ready: bucket %s, tables %s, %s\n", c.AWS.Bucket, c.AWS.Table, c.AWS.EventsTable)
		return nil
	default:
		return replay(ctx, c, log, stdout)
	}
}

func newLogger(c config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
