package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"mediashare/internal/apperr"
)

const usersUsage = `usage:
  mediashare users add NAME [--admin]   make an account; its password is read from stdin (one line)
  mediashare users list                 every account: name, role, status, how it signs in
  mediashare users disable NAME --reason "…"   stop an account signing in and end its sessions`

// splitUsersArgs takes the subcommand and the name from the front of the
// users command's arguments, so that flags may follow them.
func splitUsersArgs(args []string) (sub, name string, rest []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	return sub, name, args
}

// users runs the operator's account commands on the configured backend.
func users(ctx context.Context, c config, log *slog.Logger, sub, name string, stdin io.Reader, stdout io.Writer) error {
	need := map[string]bool{"add": true, "disable": true, "list": false}
	wantName, ok := need[sub]
	if !ok {
		return fmt.Errorf("users: unknown subcommand %q\n%s", sub, usersUsage)
	}
	if wantName && name == "" {
		return fmt.Errorf("users %s: give the account's name\n%s", sub, usersUsage)
	}
	be, err := openBackend(ctx, c, log)
	if err != nil {
		return err
	}
	defer be.Close()
	_, ppl, err := accountsOf(c, be, log)
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("users add: read the password from stdin: %w", err)
		}
		password := strings.TrimRight(line, "\r\n")
		if password == "" {
			return errors.New("users add: give the password on stdin, e.g. printf '%s\\n' \"$PASSWORD\" | mediashare users add NAME")
		}
		a, err := ppl.AddUser(ctx, name, password, c.Admin)
		if err != nil {
			return fmt.Errorf("users add %s: %s", name, apperr.MessageOf(err))
		}
		fmt.Fprintf(stdout, "added %s (%s, %s)\n", a.DisplayName, a.Role, a.ID)
		return nil
	case "disable":
		if strings.TrimSpace(c.Reason) == "" {
			return errors.New(`users disable: give a --reason (it goes in the audit log)`)
		}
		a, err := ppl.DisableUser(ctx, name, c.Reason)
		if err != nil {
			return fmt.Errorf("users disable %s: %s", name, apperr.MessageOf(err))
		}
		fmt.Fprintf(stdout, "disabled %s (%s); its sessions are ended\n", a.DisplayName, a.ID)
		return nil
	}
	list, err := ppl.Users(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tSTATUS\tVIA\tREGISTERED\tID")
	for _, a := range list {
		status := "active"
		if a.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.DisplayName, a.Role, status, a.Via, a.RegisteredAt.UTC().Format("2006-01-02 15:04"), a.ID)
	}
	return w.Flush()
}
