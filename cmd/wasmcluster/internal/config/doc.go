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
// Adding a setting is adding a field with toml and help tags (a struct
// field with a toml tag is a section), its default in Default(), its checks
// in validate, and its line in config.toml; the tests fail until config.toml
// names it with its default. Field types: string, bool, int, int64, uint32,
// time.Duration, Size.
//
// Viper (one instance, created by the command) is used only here and in
// package main; everything below cmd receives plain structs.
package config
