-- +goose Up
-- A GIN index with fastupdate queues new entries in a pending list, and the
-- insert that finds the list full (4 MB) merges all of it inside its own
-- statement: one inbound batch in a few hundred stalled for 50-130 ms while
-- the others waited on its locks. Entries now go straight into the index, a
-- small cost paid evenly by every insert (and every non-HOT thread update).
ALTER INDEX messages_fts SET (fastupdate = off);
ALTER INDEX threads_title_fts SET (fastupdate = off);
ALTER INDEX contacts_name_fts SET (fastupdate = off);

-- +goose Down
ALTER INDEX messages_fts RESET (fastupdate);
ALTER INDEX threads_title_fts RESET (fastupdate);
ALTER INDEX contacts_name_fts RESET (fastupdate);
