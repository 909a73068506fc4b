// Package kafka is flowmask's stream stage: it consumes a Kafka (or Azure
// Event Hubs) topic in a consumer group, redacts every record with the
// engine and produces the result to another topic.
//
// Partitions are the unit of parallelism and Kafka does the rest: the group
// coordinator assigns partitions (cooperative-sticky), moves a stopped
// instance's partitions to the survivors within the session timeout, and
// keeps the committed offsets. There is no coordination of our own.
//
// Delivery is at-least-once by default: an input offset is committed only
// after every output record of its batch is acknowledged by all in-sync
// replicas (idempotent producer). With Config.ExactlyOnce the batch's output
// records and its input offsets are committed in one Kafka transaction
// (kgo.GroupTransactSession), and input is read read_committed, so a crash
// neither loses nor duplicates a record.
//
// A record that cannot be redacted safely (larger than MaxRecord, not valid
// under the configured format) never reaches the output topic: it goes to
// the dead-letter topic with its content replaced by the reason and its
// coordinates, or, with no dead-letter topic, Run stops with an error that
// names topic, partition and offset. Nothing is skipped silently, and no
// record content is ever logged.
//
// The protocol is github.com/twmb/franz-go's kgo client.
package kafka
