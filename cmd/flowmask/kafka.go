package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/flowmask/flowmask/kafka"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

type kafkaFlags struct {
	config  string
	brokers []string
	cfg     kafka.Config
	tlsOn   bool
	engine  engineFlags
}

func newKafkaCmd() *cobra.Command {
	var f kafkaFlags
	cmd := &cobra.Command{
		Use:   "kafka --brokers HOST:PORT --in TOPIC --out TOPIC --group ID [flags]",
		Short: "Redact a Kafka or Azure Event Hubs topic into another, as a consumer group",
		Long: `kafka consumes a topic as a member of a consumer group, redacts every record
(value by --format, key as text, header values by header name rules) and
produces it to another topic, keeping key, timestamp and header order.
Run several instances with the same --group to share the partitions; Kafka
moves a stopped instance's partitions to the others within --session-timeout.

Delivery is at-least-once (offsets are committed after the brokers acknowledged
the output, acks=all, idempotent producer) or, with --exactly-once, in Kafka
transactions. A record that cannot be redacted safely (over --max-record, or
not valid under --format json/ndjson) goes to --dead-letter with its content
replaced by the reason; without a dead-letter topic the command stops, naming
topic, partition and offset.

Azure Event Hubs: --brokers NAMESPACE.servicebus.windows.net:9093 --sasl plain
--sasl-username '$ConnectionString' --sasl-password-env EVENTHUB_CONNECTION_STRING
(TLS is on whenever SASL is), or --sasl oauth for Entra ID.

SIGTERM finishes the batch in hand, commits it and leaves the group within
--drain-timeout.`,
		Example: `  flowmask kafka --brokers localhost:9092 --in logs-raw --out logs-clean --group flowmask
  flowmask kafka --config flowmask.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKafka(cmd.Context(), cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "YAML config `FILE` with a kafka: section (and secrets:); flags given explicitly override it")
	fl.StringSliceVar(&f.brokers, "brokers", nil, "seed brokers, `HOST:PORT[,...]`")
	fl.StringVar(&f.cfg.In, "in", "", "input `TOPIC`")
	fl.StringVar(&f.cfg.Out, "out", "", "output `TOPIC`")
	fl.StringVar(&f.cfg.Group, "group", "", "consumer group `ID`")
	fl.StringVar(&f.cfg.DeadLetter, "dead-letter", "", "`TOPIC` for records that cannot be redacted safely (default: stop on such a record)")
	f.cfg.MaxRecord = kafka.DefaultMaxRecord
	fl.Var(&f.cfg.MaxRecord, "max-record", "largest record value redacted (1048576, 512KiB, 2MiB; at most 1GiB); larger ones are dead-lettered")
	fl.BoolVar(&f.cfg.ExactlyOnce, "exactly-once", false, "use Kafka transactions: no duplicates after a crash (input read read_committed)")
	fl.StringVar(&f.cfg.TransactionalID, "transactional-id", "", "transactional `ID` of this instance with --exactly-once (default flowmask-GROUP-HOST-PID)")
	fl.DurationVar(&f.cfg.SessionTimeout, "session-timeout", kafka.DefaultSessionTimeout, "how long the group waits for a silent instance before moving its partitions")
	fl.DurationVar(&f.cfg.DrainTimeout, "drain-timeout", kafka.DefaultDrainTimeout, "on SIGTERM, time to finish the batch in hand, commit and leave the group")
	fl.StringVar(&f.cfg.Admin, "admin", kafka.DefaultAdmin, "admin `ADDR` for /healthz, /readyz and /metrics, or off")
	fl.StringVar(&f.cfg.SASL.Mechanism, "sasl", "", "SASL mechanism: plain, scram-sha-256, scram-sha-512 or oauth (Entra ID)")
	fl.StringVar(&f.cfg.SASL.Username, "sasl-username", "", "SASL `USER` ($ConnectionString for Event Hubs)")
	fl.StringVar(&f.cfg.SASL.PasswordFile, "sasl-password-file", "", "`FILE` holding the SASL password (never a flag value: it would show in ps)")
	fl.StringVar(&f.cfg.SASL.PasswordEnv, "sasl-password-env", "", "environment `VARIABLE` holding the SASL password")
	fl.BoolVar(&f.tlsOn, "tls", false, "use TLS to the brokers (on by default with --sasl)")
	fl.StringVar(&f.cfg.TLS.CA, "tls-ca", "", "PEM `FILE` of CA certificates to trust instead of the system's")
	f.engine.register(cmd)
	return cmd
}

// kafkaConfig merges the config file (if any) with the flags the user set.
func (f *kafkaFlags) kafkaConfig(cmd *cobra.Command) (kafka.Config, secrets.Config, error) {
	var cfg kafka.Config
	var sec secrets.Config
	if f.config != "" {
		fc, err := kafka.LoadConfig(f.config)
		if err != nil {
			return cfg, sec, err
		}
		cfg, sec = fc.Kafka, fc.Secrets
	}
	set := func(name string, apply func()) {
		if f.config == "" || cmd.Flags().Changed(name) {
			apply()
		}
	}
	set("brokers", func() { cfg.Brokers = f.brokers })
	set("in", func() { cfg.In = f.cfg.In })
	set("out", func() { cfg.Out = f.cfg.Out })
	set("group", func() { cfg.Group = f.cfg.Group })
	set("dead-letter", func() { cfg.DeadLetter = f.cfg.DeadLetter })
	set("format", func() { cfg.Format = f.engine.format })
	set("max-record", func() { cfg.MaxRecord = f.cfg.MaxRecord })
	set("exactly-once", func() { cfg.ExactlyOnce = f.cfg.ExactlyOnce })
	set("transactional-id", func() { cfg.TransactionalID = f.cfg.TransactionalID })
	set("session-timeout", func() { cfg.SessionTimeout = f.cfg.SessionTimeout })
	set("drain-timeout", func() { cfg.DrainTimeout = f.cfg.DrainTimeout })
	set("admin", func() { cfg.Admin = f.cfg.Admin })
	set("sasl", func() { cfg.SASL.Mechanism = f.cfg.SASL.Mechanism })
	set("sasl-username", func() { cfg.SASL.Username = f.cfg.SASL.Username })
	set("sasl-password-file", func() { cfg.SASL.PasswordFile = f.cfg.SASL.PasswordFile })
	set("sasl-password-env", func() { cfg.SASL.PasswordEnv = f.cfg.SASL.PasswordEnv })
	set("tls-ca", func() { cfg.TLS.CA = f.cfg.TLS.CA })
	if cmd.Flags().Changed("tls") {
		on := f.tlsOn
		cfg.TLS.Enabled = &on
	}
	cfg.SetDefaults()
	return cfg, sec, cfg.Validate()
}

func runKafka(ctx context.Context, cmd *cobra.Command, f *kafkaFlags) error {
	cfg, secCfg, err := f.kafkaConfig(cmd)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := notifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := newJSONLogger(streamsFrom(ctx).Err)
	defer logger.Sync() //nolint:errcheck // stderr
	base, _, err := f.engine.buildWith(logger, false)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	mgr, err := f.engine.secrets.manager(secCfg, logger, nil, nil)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if err := mgr.Load(ctx); err != nil {
		return &exitError{exitUsage, err}
	}
	live := mgr.Track(base)
	go mgr.Run(ctx) //nolint:errcheck // returns nil when ctx is done
	onHangup(ctx, func() {
		if err := mgr.Refresh(ctx); err != nil {
			logger.Error("secrets refresh failed; the last good values stay masked", zap.Error(err))
		}
	})
	p, err := kafka.New(cfg, kafka.Options{Redactor: live.Load, Logger: logger, Ready: mgr.Ready})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if cfg.Admin != "off" {
		ln, err := net.Listen("tcp", cfg.Admin)
		if err != nil {
			return &exitError{exitUsage, fmt.Errorf("--admin: %w", err)}
		}
		srv := &http.Server{Handler: p.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln) //nolint:errcheck // closed on return
		defer srv.Close()
		logger.Info("listening", zap.String("admin", ln.Addr().String()))
	}
	if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return &exitError{exitUsage, fmt.Errorf("kafka: %w", err)}
	}
	return nil
}
