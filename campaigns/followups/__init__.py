"""Follow-up SMS series: opt-in, schedule, outbox dispatch, delivery status, opt-out."""
