-- Lookups by id always name the collection too, and UNIQUE (collection_id, id, version)
-- serves them; a second index keyed on random ids doubled the cost of every insert once the
-- table outgrew the page cache (BENCHMARKS.md, issue #3).
DROP INDEX stix_objects_id;
