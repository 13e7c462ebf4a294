// Package config is wasmcluster's configuration: the Config struct, its
// documented defaults, validation with field-aware errors, and loading from
// command-line flags, WASMCLUSTER_* environment variables and a TOML file.
//
// Every setting has one key (e.g. "plugin.pool_size"), declared once in a
// struct tag on Config. The flag, the environment variable and the TOML
// location are derived from it mechanically:
//
//	key                 plugin.pool_size
//	flag                --plugin-pool-size
//	environment         WASMCLUSTER_PLUGIN_POOL_SIZE
//	TOML                [plugin] pool_size = 0
//
// Precedence is flags > environment > config file > defaults. Loading starts
// from Default(), overrides each key found in a source, then runs Validate.
// Errors name the key, the value and where it came from; an unknown key in
// the config file is an error too, so a typo never silently falls back to a
// default.
//
// Viper (one instance, created by the command) is used only here and in
// package main; everything below cmd receives plain structs.
package config
