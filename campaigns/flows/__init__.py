"""Voice flows kept in the database: versions, the live version, recorded audio per prompt."""
