// Package chart draws small line charts as PNG with the standard library
// only (image/png and a built-in 5x7 bitmap font), so the benchmark needs no
// plotting tool installed.
package chart
