package bundles

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/open-policy-agent/opa/v1/logging"
)

// opaLogger writes OPA's log lines (printf-style, with fields) to slog. Its
// level is debug: what OPA's downloader logs at info and above, certgate
// reports itself, with the bundle's name.
type opaLogger struct {
	log    *slog.Logger
	fields []any
}

func (l opaLogger) logger() *slog.Logger {
	if l.log == nil {
		return slog.Default()
	}
	return l.log
}

func (l opaLogger) Debug(format string, a ...any) { l.write(slog.LevelDebug, format, a) }
func (l opaLogger) Info(format string, a ...any)  { l.write(slog.LevelDebug, format, a) }
func (l opaLogger) Warn(format string, a ...any)  { l.write(slog.LevelWarn, format, a) }
func (l opaLogger) Error(format string, a ...any) { l.write(slog.LevelWarn, format, a) }

func (l opaLogger) write(level slog.Level, format string, a []any) {
	l.logger().Log(context.Background(), level, "opa: "+fmt.Sprintf(format, a...), l.fields...)
}

// WithFields returns a logger that adds fields to every line.
func (l opaLogger) WithFields(fields map[string]any) logging.Logger {
	next := opaLogger{log: l.log, fields: append([]any(nil), l.fields...)}
	for k, v := range fields {
		next.fields = append(next.fields, k, v)
	}
	return next
}

// GetLevel is debug, so that OPA formats its debug lines; slog's handler
// drops them unless certgate logs at debug.
func (opaLogger) GetLevel() logging.Level { return logging.Debug }

// SetLevel does nothing: the level is certgate's log.level.
func (opaLogger) SetLevel(logging.Level) {}
