package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"redress/config"
	"redress/intake"
)

// piiCmd holds the personal-data tools (issue 4): `redress pii rotate` re-seals every stored
// value under the first key of REDRESS_PII_KEYS, so that an old key can then be removed.
func piiCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pii", Short: "personal data: key rotation"}
	var dbf dbFlags
	var batch int
	rot := &cobra.Command{
		Use:   "rotate [--data DIR | --database-url URL] [--batch N]",
		Short: "re-seal every personal-data value under the first configured key (idempotent, resumable)",
		Long: "Put the new key first in REDRESS_PII_KEYS (kid:base64,…), keep the old ones after it, " +
			"restart the services, run this, then remove the old keys. A second run rewrites nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			dbf.resolve(&cfg)
			if err := loadDevSecrets(&cfg, false); err != nil {
				return err
			}
			box, err := openBox(cfg)
			if err != nil {
				return err
			}
			db, err := openDB(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer db.Close() //nolint:errcheck // the command ends here and every write is committed; closing the pool loses nothing if it fails
			res, err := intake.RotatePII(cmd.Context(), db, box, batch)
			if err != nil {
				return err
			}
			out, _ := json.Marshal(res)
			if _, err := fmt.Fprintln(cmd.OutOrStdout(), string(out)); err != nil {
				return fmt.Errorf("write the result: %w", err)
			}
			return nil
		},
	}
	dbf.add(rot)
	rot.Flags().IntVar(&batch, "batch", 500, "rows per transaction")
	cmd.AddCommand(rot)
	return cmd
}
