-- The ids each object references under the marking rule on references (a released object
-- never names an object its reader may not read): a JSON list, so that reading a page needs
-- no parse of the objects themselves. NULL on rows stored before: the hub reads them from
-- `raw` when it needs them.
ALTER TABLE stix_objects ADD COLUMN refs TEXT;
