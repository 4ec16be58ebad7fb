package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
)

func cmdMetasim(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("metasim: not wired yet")
}

func cmdBench(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("bench: not wired yet")
}
