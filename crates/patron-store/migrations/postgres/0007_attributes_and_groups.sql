-- Customer attribute definitions, their values, and customer groups.
-- Customer ids are COLLATE "C" like customers.id, so joins on them can use the indexes.

-- Typed attribute definitions; the slug is the application-wide key bulk updates use.
CREATE TABLE attribute_definitions (
    id                TEXT PRIMARY KEY,
    application_id    TEXT NOT NULL REFERENCES applications (id),
    slug              TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    type              TEXT NOT NULL,
    multi_value       BOOLEAN NOT NULL,
    customer_editable BOOLEAN NOT NULL,
    encrypted         BOOLEAN NOT NULL,
    pinned            BOOLEAN NOT NULL,
    pin_order         BIGINT,
    default_value     TEXT,
    validations       TEXT NOT NULL DEFAULT '[]',
    extras            TEXT NOT NULL DEFAULT '{}',
    is_locked         BOOLEAN NOT NULL DEFAULT FALSE,
    created_by        TEXT NOT NULL,
    updated_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT attribute_definitions_slug_unique UNIQUE (application_id, slug)
);
CREATE INDEX attribute_definitions_listing ON attribute_definitions (application_id, id);

-- One value per customer and definition: JSON, or AES-256-GCM sealed text for encrypted
-- definitions.
CREATE TABLE attribute_values (
    id                  TEXT PRIMARY KEY,
    application_id      TEXT NOT NULL,
    definition_id       TEXT NOT NULL REFERENCES attribute_definitions (id) ON DELETE CASCADE,
    customer_id         TEXT COLLATE "C" NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    value               TEXT NOT NULL,
    customer_overridden BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CONSTRAINT attribute_values_unique UNIQUE (definition_id, customer_id)
);
CREATE INDEX attribute_values_by_customer ON attribute_values (customer_id, id);

-- One row per element of every unencrypted value, so group conditions are index lookups:
-- numbers, dates (epoch milliseconds) and booleans (1/0) in num, text in txt. Rows carry a
-- copy of the customer's archived flag (kept by archive and restore), so counting a
-- group's live members is an index-only range scan.
CREATE TABLE attribute_index (
    definition_id TEXT NOT NULL,
    customer_id   TEXT COLLATE "C" NOT NULL,
    archived      BOOLEAN NOT NULL DEFAULT FALSE,
    num           DOUBLE PRECISION,
    txt           TEXT
);
CREATE INDEX attribute_index_num ON attribute_index (definition_id, archived, num, customer_id);
CREATE INDEX attribute_index_txt ON attribute_index (definition_id, archived, txt, customer_id);
-- (definition, customer) pairs: rewriting or deleting a value, and membership probes. Both
-- columns lead so that planners pick it even before statistics exist (a bulk load).
CREATE INDEX attribute_index_pair ON attribute_index (definition_id, customer_id);

-- The last group uid handed out per application.
CREATE TABLE group_sequences (
    application_id TEXT PRIMARY KEY,
    last_uid       BIGINT NOT NULL
);

CREATE TABLE customer_groups (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    uid            BIGINT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    type           TEXT NOT NULL CHECK (type IN ('bulk', 'conditional')),
    status         TEXT NOT NULL,
    is_active      BOOLEAN NOT NULL DEFAULT TRUE,
    conditions     TEXT NOT NULL DEFAULT '[]',
    file_url       TEXT,
    error_count    BIGINT,
    error_file_url TEXT,
    tags           TEXT NOT NULL DEFAULT '[]',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT customer_groups_uid_unique UNIQUE (application_id, uid)
);
CREATE INDEX customer_groups_listing ON customer_groups (application_id, id);

-- Which definitions a group's conditions use: a definition in use cannot be deleted.
CREATE TABLE group_condition_refs (
    group_id      TEXT NOT NULL REFERENCES customer_groups (id) ON DELETE CASCADE,
    definition_id TEXT NOT NULL,
    PRIMARY KEY (group_id, definition_id)
);
CREATE INDEX group_condition_refs_definition ON group_condition_refs (definition_id);

-- Members of bulk groups (from files and PATCH add/remove).
CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES customer_groups (id) ON DELETE CASCADE,
    customer_id TEXT COLLATE "C" NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, customer_id)
);
CREATE INDEX group_members_customer ON group_members (customer_id);

-- Customers always in ('white') or never in ('black') a group, whatever its rule says.
CREATE TABLE group_overrides (
    group_id    TEXT NOT NULL REFERENCES customer_groups (id) ON DELETE CASCADE,
    customer_id TEXT COLLATE "C" NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    listed      TEXT NOT NULL CHECK (listed IN ('white', 'black')),
    PRIMARY KEY (group_id, customer_id)
);
CREATE INDEX group_overrides_customer ON group_overrides (customer_id);
