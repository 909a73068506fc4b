package forward

import (
	"github.com/flowmask/flowmask/proxy/internal/admin"
	"github.com/flowmask/flowmask/proxy/internal/hostport"
	"github.com/flowmask/flowmask/proxy/internal/msgbody"
	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/proxy/internal/zaplog"
)

// httpError is a refusal with its status and a message safe to show.
type httpError = refusal.Error

// StatusClientClosed is the status recorded when the client went away
// (nginx's 499). It is never sent.
const StatusClientClosed = refusal.StatusClientClosed

// Helpers shared with the reverse proxy (see proxy/internal).
var (
	classify     = refusal.Classify
	fromBody     = refusal.FromBody
	unsupported  = refusal.Unsupported
	writeError   = refusal.Write
	redactCopy   = msgbody.RedactCopy
	copyBufs     = &msgbody.CopyBufs
	setBody      = msgbody.SetRequestBody
	dropDigests  = msgbody.DropDigests
	dropBody     = msgbody.DropBody
	zapErrMsg    = zaplog.ErrMsg
	zapErrCode   = zaplog.ErrCode
	mustStdLog   = zaplog.StdLog
	hostSet      = hostport.Set
	normHostPort = hostport.Normalize
	parseNetwork = hostport.ParseNetwork
	adminHandler = admin.Handler
)
