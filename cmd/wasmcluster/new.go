package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmcluster/wasmcluster/cmd/wasmcluster/internal/scaffold"
)

func newNewCmd() *cobra.Command {
	var lang string
	cmd := &cobra.Command{
		Use:   "new NAME --lang " + strings.Join(scaffold.Langs(), "|"),
		Short: "Create a plugin directory that builds and serves as it is",
		Long: `Create directory NAME with a hello plugin in the chosen language: "/" answers
"hello from NAME", "/agent" echoes the User-Agent header. It builds with
"wasmcluster build NAME" and serves, rebuilding on every save, with
"wasmcluster serve NAME". The language's guest library is copied in, so the
plugin builds outside the wasmcluster repository and offline (AssemblyScript
needs its npm package: npm ci). A Go plugin uses the raw ABI
(go:wasmimport/go:wasmexport) and has no requirements in its go.mod.`,
		Example: `  wasmcluster new hello-c --lang c
  wasmcluster serve ./hello-c`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("new takes exactly one plugin directory name, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if lang == "" {
				return usageError(fmt.Errorf("--lang is required: one of %s", strings.Join(scaffold.Langs(), ", ")))
			}
			files, err := scaffold.New(args[0], lang)
			if err != nil {
				return usageError(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "created %s (%s): %s\n", args[0], lang, strings.Join(files, ", "))
			_, err = fmt.Fprintf(out, "serve it, rebuilding on save: wasmcluster serve %s\n", args[0])
			return runtimeErrorOrNil(err)
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "", "language: "+strings.Join(scaffold.Langs(), ", "))
	return cmd
}
