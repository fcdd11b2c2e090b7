package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"redress/auth"
	"redress/config"
	"redress/models"
	"redress/orgfile"
)

func importCmd() *cobra.Command {
	var dbf dbFlags
	cmd := &cobra.Command{
		Use:   "import [--data DIR | --database-url URL] FILE",
		Short: "upsert units, staff, users and policies from an organisation file (idempotent)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			dbf.resolve(&cfg)
			f, err := orgfile.Load(args[0])
			if err != nil {
				return err
			}
			db, err := openDB(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer db.Close() //nolint:errcheck // the command ends here and every write is committed; closing the pool loses nothing if it fails
			if err := db.Ready(cmd.Context()); err != nil {
				return err
			}
			sum, err := orgfile.Apply(cmd.Context(), db, f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if _, err := fmt.Fprintln(out, sum.String()); err != nil {
				return fmt.Errorf("write the summary: %w", err)
			}
			if !sum.Changed() {
				if _, err := fmt.Fprintln(out, "nothing changed"); err != nil {
					return fmt.Errorf("write the summary: %w", err)
				}
			}
			return nil
		},
	}
	dbf.add(cmd)
	return cmd
}

func tokenCmd() *cobra.Command {
	var (
		dbf   dbFlags
		login string
		ttl   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "token --user LOGIN [--ttl 1h]",
		Short: "print a bearer token for a user, signed with the deployment's key",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			dbf.resolve(&cfg)
			if err := loadDevSecrets(&cfg, false); err != nil {
				return err
			}
			if cfg.JWTKey == "" {
				return fmt.Errorf("no signing key: set REDRESS_JWT_KEY or point --data at a redress dev data directory")
			}
			db, err := openDB(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer db.Close() //nolint:errcheck // the command ends here and every write is committed; closing the pool loses nothing if it fails
			var u models.User
			if err := db.WithContext(cmd.Context()).Where("login = ?", login).Limit(1).Find(&u).Error; err != nil {
				return err
			}
			if u.ID == 0 {
				return fmt.Errorf("no user %q", login)
			}
			if u.Disabled {
				return fmt.Errorf("user %q is disabled", login)
			}
			iss, err := auth.NewIssuer(jwtKeyBytes(cfg.JWTKey), cfg.JWTIssuer, cfg.JWTAudience)
			if err != nil {
				return err
			}
			tok, _, err := iss.Issue(login, ttl)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(cmd.OutOrStdout(), tok); err != nil {
				return fmt.Errorf("write the token: %w", err)
			}
			return nil
		},
	}
	dbf.add(cmd)
	cmd.Flags().StringVar(&login, "user", "", "login of the user")
	cmd.Flags().DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}
