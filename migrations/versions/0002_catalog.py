"""catalog: datasets, terms, versions, file manifests, samples, review events and the full-text index

The full-text index is dialect-specific and invisible to the models (``marketplace.catalog.fts.include_object``
keeps it out of autogenerate comparisons):

- PostgreSQL: ``dataset.search_vector``, a stored generated ``tsvector`` (title A, summary and tags B,
  description C; English configuration) with a GIN index.
- SQLite: ``dataset_fts``, an external-content FTS5 table over the same four columns (porter stemming, no
  diacritic folding, to tokenise like PostgreSQL's English configuration), kept in step by triggers.

A later migration that rebuilds ``dataset`` on SQLite (batch mode copies the table) must recreate the triggers.

Revision ID: 0002_catalog
Revises: 0001_accounts
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0002_catalog"
down_revision: str | None = "0001_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "in_review",
                "published",
                "deprecated",
                "withdrawn",
                name="datasetstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "offering_type",
            sa.Enum("off_the_shelf", "custom", name="offeringtype", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "modality",
            sa.Enum(
                "text",
                "image",
                "video",
                "audio",
                "multimodal",
                "tabular",
                "time_series",
                "sensor",
                "point_cloud",
                name="modality",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("modality_details", sa.JSON(), nullable=False),
        sa.Column("collection_start", sa.Date(), nullable=True),
        sa.Column("collection_end", sa.Date(), nullable=True),
        sa.Column("record_count", sa.BigInteger(), nullable=True),
        sa.Column("total_bytes", sa.BigInteger(), nullable=True),
        sa.Column("file_count", sa.BigInteger(), nullable=True),
        sa.Column("annotator_qualifications", sa.String(length=2000), nullable=False),
        sa.Column("annotations_per_item", sa.Float(), nullable=True),
        sa.Column(
            "agreement_metric",
            sa.Enum(
                "cohen_kappa",
                "fleiss_kappa",
                "krippendorff_alpha",
                "percent_agreement",
                "f1",
                "wer",
                "iou",
                name="agreementmetric",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("agreement_value", sa.Float(), nullable=True),
        sa.Column("synthetic_share_pct", sa.Integer(), nullable=True),
        sa.Column(
            "personal_data",
            sa.Enum("yes", "no", "unknown", name="personaldata", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "lawful_basis",
            sa.Enum(
                "consent",
                "contract",
                "legal_obligation",
                "vital_interests",
                "public_task",
                "legitimate_interests",
                "not_applicable",
                name="lawfulbasis",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("consent_obtained", sa.Boolean(), nullable=True),
        sa.Column("opt_out_honoured", sa.Boolean(), nullable=True),
        sa.Column("personal_data_notes", sa.String(length=4000), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("parent_datasets", sa.JSON(), nullable=False),
        sa.Column("ai_act", sa.JSON(), nullable=False),
        sa.Column(
            "storage_region",
            sa.Enum(
                "eu",
                "uk",
                "ch",
                "us",
                "ca",
                "br",
                "in",
                "sg",
                "jp",
                "kr",
                "au",
                "ae",
                name="storageregion",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "update_frequency",
            sa.Enum(
                "one_off",
                "daily",
                "weekly",
                "monthly",
                "quarterly",
                "yearly",
                "irregular",
                name="updatefrequency",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("tags_text", sa.String(length=4000), nullable=False),
        sa.Column("status_note", sa.String(length=2000), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("published_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("deprecated_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "synthetic_share_pct IS NULL OR (synthetic_share_pct >= 0 AND synthetic_share_pct <= 100)",
            name=op.f("ck_dataset_synthetic_share_range"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_dataset_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_dataset_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("organisation_id", "external_id", name=op.f("uq_dataset_organisation_id_external_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_dataset_slug")),
    )
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_modality"), ["modality"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_personal_data"), ["personal_data"], unique=False)
        batch_op.create_index("ix_dataset_status_published_at", ["status", "published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_storage_region"), ["storage_region"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_synthetic_share_pct"), ["synthetic_share_pct"], unique=False)

    op.create_table(
        "dataset_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_dataset_event_actor_id_user_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_event_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_event")),
    )
    with op.batch_alter_table("dataset_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_event_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "dataset_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "scheme",
            sa.Enum(
                "tag",
                "task",
                "industry",
                "language",
                "country",
                "media_type",
                "collection_method",
                "annotation_method",
                "special_category",
                "deidentification",
                name="termscheme",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_term_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_term")),
        sa.UniqueConstraint("dataset_id", "scheme", "value", name=op.f("uq_dataset_term_dataset_id_scheme_value")),
    )
    with op.batch_alter_table("dataset_term", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_term_scheme_value", ["scheme", "value", "dataset_id"], unique=False)

    op.create_table(
        "dataset_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column(
            "status", sa.Enum("draft", "published", name="versionstatus", native_enum=False, length=32), nullable=False
        ),
        sa.Column("manifest_digest", sa.String(length=64), nullable=True),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.Column("published_at", marketplace.db.UTCDateTime(), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_version_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["user_account.id"],
            name=op.f("fk_dataset_version_published_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_version")),
        sa.UniqueConstraint("dataset_id", "version", name=op.f("uq_dataset_version_dataset_id_version")),
    )
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_version_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "sample_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_sample_file_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_file")),
        sa.UniqueConstraint("dataset_id", "filename", name=op.f("uq_sample_file_dataset_id_filename")),
    )
    with op.batch_alter_table("sample_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sample_file_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "dataset_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=1024), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_dataset_file_version_id_dataset_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_file")),
        sa.UniqueConstraint("version_id", "path", name=op.f("uq_dataset_file_version_id_path")),
    )
    with op.batch_alter_table("dataset_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_file_version_id"), ["version_id"], unique=False)

    _create_full_text_index()


def downgrade() -> None:
    _drop_full_text_index()
    with op.batch_alter_table("dataset_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_file_version_id"))

    op.drop_table("dataset_file")
    with op.batch_alter_table("sample_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sample_file_dataset_id"))

    op.drop_table("sample_file")
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_version_dataset_id"))

    op.drop_table("dataset_version")
    with op.batch_alter_table("dataset_term", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_term_scheme_value")

    op.drop_table("dataset_term")
    with op.batch_alter_table("dataset_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_event_dataset_id"))

    op.drop_table("dataset_event")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_synthetic_share_pct"))
        batch_op.drop_index(batch_op.f("ix_dataset_storage_region"))
        batch_op.drop_index("ix_dataset_status_published_at")
        batch_op.drop_index(batch_op.f("ix_dataset_personal_data"))
        batch_op.drop_index(batch_op.f("ix_dataset_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_modality"))

    op.drop_table("dataset")


def _create_full_text_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            ALTER TABLE dataset ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', coalesce(title, '')), 'A')
                || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
                || setweight(to_tsvector('english', coalesce(tags_text, '')), 'B')
                || setweight(to_tsvector('english', coalesce(description, '')), 'C')
            ) STORED
            """
        )
        op.execute("CREATE INDEX ix_dataset_search_vector ON dataset USING gin (search_vector)")
    elif dialect == "sqlite":
        op.execute(
            """
            CREATE VIRTUAL TABLE dataset_fts USING fts5(
                title, summary, tags_text, description,
                content='dataset', content_rowid='id', tokenize='porter unicode61 remove_diacritics 0'
            )
            """
        )
        op.execute(
            """
            CREATE TRIGGER dataset_fts_insert AFTER INSERT ON dataset BEGIN
                INSERT INTO dataset_fts(rowid, title, summary, tags_text, description)
                VALUES (new.id, new.title, new.summary, new.tags_text, new.description);
            END
            """
        )
        op.execute(
            """
            CREATE TRIGGER dataset_fts_delete AFTER DELETE ON dataset BEGIN
                INSERT INTO dataset_fts(dataset_fts, rowid, title, summary, tags_text, description)
                VALUES ('delete', old.id, old.title, old.summary, old.tags_text, old.description);
            END
            """
        )
        op.execute(
            """
            CREATE TRIGGER dataset_fts_update AFTER UPDATE OF title, summary, tags_text, description ON dataset
            BEGIN
                INSERT INTO dataset_fts(dataset_fts, rowid, title, summary, tags_text, description)
                VALUES ('delete', old.id, old.title, old.summary, old.tags_text, old.description);
                INSERT INTO dataset_fts(rowid, title, summary, tags_text, description)
                VALUES (new.id, new.title, new.summary, new.tags_text, new.description);
            END
            """
        )
    else:
        raise NotImplementedError(f"no full-text index for {dialect}")


def _drop_full_text_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_dataset_search_vector")
        op.execute("ALTER TABLE dataset DROP COLUMN IF EXISTS search_vector")
    elif dialect == "sqlite":
        for trigger in ("dataset_fts_insert", "dataset_fts_delete", "dataset_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS dataset_fts")
