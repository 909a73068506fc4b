// Package zaplog holds the zap fields and adapters both proxies log with, so
// their logs use the same keys.
package zaplog

import (
	"log"

	"go.uber.org/zap"
)

// ErrCode is a refusal's reason code.
func ErrCode(c string) zap.Field { return zap.String("reason", c) }

// ErrMsg logs a transport error; the logger's redacting layer masks any
// secret in it (such as a URL with a signature).
func ErrMsg(err error) zap.Field { return zap.Error(err) }

// StdLog adapts the logger for net/http's ErrorLog, at warn level.
func StdLog(l *zap.Logger) *log.Logger {
	sl, err := zap.NewStdLogAt(l, zap.WarnLevel)
	if err != nil {
		return zap.NewStdLog(l)
	}
	return sl
}
