# 83-trust-conform.sh - PRODUCT.md §2.9 across commands, as a monitoring
# system meets it: a gate never passes on nothing.

# `dlq stats -o nagios` is the DLQ gate: with no [dlq] section at all it
# said "DLQ OK - 0 DLQs" (exit 0) - a config that lost its sections stayed
# green. It is UNKNOWN (exit 3), as health with no check selected.
test_dlq_stats_gate_never_passes_on_nothing() {
	conf "[core]
redis_url = $MC_TEST_REDIS_URL"
	run -o nagios dlq stats
	expect_rc 3
	expect_out '^DLQ UNKNOWN - 0 DLQs: no \[dlq "NAME"\] section is configured'
	run dlq stats
	expect_rc 0
}
