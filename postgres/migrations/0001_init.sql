-- iamkit schema, version 1.

-- The revision counter: one row. Every write takes this row's lock first
-- (SELECT ... FOR UPDATE), so that writers on every replica serialize and
-- revisions are gap-free and totally ordered. pruned_through is the
-- highest revision whose change the log no longer holds (0: none pruned).
CREATE TABLE iam_revision (
	single         boolean PRIMARY KEY DEFAULT true CHECK (single),
	revision       bigint NOT NULL CHECK (revision >= 0),
	pruned_through bigint NOT NULL DEFAULT 0 CHECK (pruned_through >= 0)
);
INSERT INTO iam_revision (single, revision) VALUES (true, 0);

-- Every entity, as one JSON document (type json, not jsonb: the store
-- never queries inside it, and a replica reading the whole state is then
-- spared the conversion of every document back to text). id is a
-- permission set's name and an API key's access key; an organization's
-- organization_id is its own ID. lookup is what the write rules find an
-- entity by besides its ID: a user's email address in lower case, a
-- group's name. The text columns compare and sort byte by byte (collation
-- "C"), as Go's strings do, whatever the database's locale: lists come
-- sorted by ID as every store sorts them.
CREATE TABLE iam_entities (
	kind            text COLLATE "C" NOT NULL,
	organization_id text COLLATE "C" NOT NULL,
	id              text COLLATE "C" NOT NULL,
	value           json NOT NULL,
	lookup          text COLLATE "C",
	owner           boolean NOT NULL DEFAULT false,
	PRIMARY KEY (kind, organization_id, id)
);

-- The ID registry: an ID names at most one project, user, application,
-- group, policy or API key in the whole database (an organization shares
-- its ID with its default project only; permission sets are named per
-- organization).
CREATE UNIQUE INDEX iam_entities_id ON iam_entities (id)
	WHERE kind NOT IN ('organization', 'permission_set');

CREATE INDEX iam_entities_lookup ON iam_entities (kind, organization_id, lookup)
	WHERE lookup IS NOT NULL;

-- The owner of each organization. (Not unique: ownership moves inside one
-- transaction, in whichever order the write rules apply its two users.)
CREATE INDEX iam_entities_owner ON iam_entities (organization_id)
	WHERE owner;

-- The change log: every committed write, its events in the order applied.
CREATE TABLE iam_changes (
	revision     bigint PRIMARY KEY,
	events       json NOT NULL,
	committed_at timestamptz NOT NULL DEFAULT now()
);
