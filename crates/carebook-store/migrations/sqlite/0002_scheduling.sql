-- Carebook scheduling: booking settings, catalog, providers and their clinics, weekly
-- availability, exceptions, time off, and appointments that can never double-book.
-- See docs/data-model.md, sections 2.2-2.6. SQLite form: STRICT tables, uuids as BLOBs, times as
-- INTEGER epoch microseconds, dates and clock times as TEXT. There are no exclusion constraints:
-- every write transaction holds the database's only write lock (BEGIN IMMEDIATE), and the
-- booking code checks for overlaps inside it before inserting.

CREATE TABLE clinic_booking_settings (
    clinic_id                   BLOB PRIMARY KEY REFERENCES clinics (id) ON DELETE CASCADE,
    slot_granularity_minutes    INTEGER NOT NULL DEFAULT 15 CHECK (slot_granularity_minutes BETWEEN 5 AND 240),
    min_notice_minutes          INTEGER NOT NULL DEFAULT 60 CHECK (min_notice_minutes >= 0),
    booking_horizon_days        INTEGER NOT NULL DEFAULT 60 CHECK (booking_horizon_days BETWEEN 1 AND 730),
    cancellation_notice_minutes INTEGER NOT NULL DEFAULT 1440 CHECK (cancellation_notice_minutes >= 0),
    patient_self_booking        INTEGER NOT NULL DEFAULT 1,
    requires_prepayment         INTEGER NOT NULL DEFAULT 0,
    payment_hold_minutes        INTEGER NOT NULL DEFAULT 15 CHECK (payment_hold_minutes > 0),
    waitlist_offer_ttl_minutes  INTEGER NOT NULL DEFAULT 120 CHECK (waitlist_offer_ttl_minutes > 0),
    reminder_24h_enabled        INTEGER NOT NULL DEFAULT 1,
    reminder_2h_enabled         INTEGER NOT NULL DEFAULT 1,
    updated_at                  INTEGER NOT NULL,
    updated_by_user_id          BLOB REFERENCES users (id) ON DELETE SET NULL
) STRICT;

CREATE TABLE specializations (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    parent_id   BLOB REFERENCES specializations (id) ON DELETE SET NULL,
    description TEXT,
    is_active   INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT specializations_name_key UNIQUE (name)
) STRICT;

CREATE TABLE services (
    id                         BLOB PRIMARY KEY,
    clinic_id                  BLOB NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    name                       TEXT NOT NULL,
    description                TEXT,
    category                   TEXT,
    duration_minutes           INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    buffer_before_minutes      INTEGER NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 240),
    buffer_after_minutes       INTEGER NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 240),
    required_specialization_id BLOB REFERENCES specializations (id) ON DELETE SET NULL,
    fee_minor                  INTEGER CHECK (fee_minor >= 0),
    currency                   TEXT CHECK (length(currency) = 3 AND currency = upper(currency)),
    billing_code               TEXT,
    modes                      TEXT NOT NULL DEFAULT '["in_person"]',
    is_active                  INTEGER NOT NULL DEFAULT 1,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    deactivated_at             INTEGER,
    CONSTRAINT services_clinic_name_key UNIQUE (clinic_id, name),
    CHECK ((fee_minor IS NULL) = (currency IS NULL))
) STRICT;

CREATE TABLE providers (
    id                       BLOB PRIMARY KEY,
    user_id                  BLOB NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    title                    TEXT,
    bio                      TEXT,
    photo_url                TEXT,
    license_number           TEXT,
    registration_number      TEXT,
    practice_start_year      INTEGER CHECK (practice_start_year BETWEEN 1900 AND 2200),
    qualifications           TEXT NOT NULL DEFAULT '[]',
    languages                TEXT NOT NULL DEFAULT '["en"]',
    default_fee_minor        INTEGER CHECK (default_fee_minor >= 0),
    currency                 TEXT CHECK (length(currency) = 3 AND currency = upper(currency)),
    default_duration_minutes INTEGER NOT NULL DEFAULT 30 CHECK (default_duration_minutes BETWEEN 1 AND 1440),
    emergency_enabled        INTEGER NOT NULL DEFAULT 0,
    max_daily_appointments   INTEGER NOT NULL DEFAULT 8 CHECK (max_daily_appointments BETWEEN 1 AND 200),
    status                   TEXT NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'on_leave', 'busy')),
    verification_status      TEXT NOT NULL DEFAULT 'pending' CHECK (verification_status IN ('pending', 'verified', 'rejected')),
    verification_notes       TEXT,
    verified_at              INTEGER,
    verified_by_user_id      BLOB REFERENCES users (id) ON DELETE SET NULL,
    is_active                INTEGER NOT NULL DEFAULT 1,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    deactivated_at           INTEGER,
    CONSTRAINT providers_user_id_key UNIQUE (user_id),
    CONSTRAINT providers_license_number_key UNIQUE (license_number),
    CHECK ((default_fee_minor IS NULL) = (currency IS NULL))
) STRICT;

CREATE TABLE provider_specializations (
    provider_id       BLOB NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    specialization_id BLOB NOT NULL REFERENCES specializations (id) ON DELETE RESTRICT,
    is_primary        INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (provider_id, specialization_id)
) STRICT;
CREATE UNIQUE INDEX provider_specializations_one_primary ON provider_specializations (provider_id) WHERE is_primary = 1;

CREATE TABLE provider_clinics (
    id                       BLOB PRIMARY KEY,
    provider_id              BLOB NOT NULL REFERENCES providers (id) ON DELETE RESTRICT,
    clinic_id                BLOB NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    status                   TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_leave', 'ended')),
    is_primary               INTEGER NOT NULL DEFAULT 0,
    department               TEXT,
    designation              TEXT,
    consultation_fee_minor   INTEGER CHECK (consultation_fee_minor >= 0),
    currency                 TEXT CHECK (length(currency) = 3 AND currency = upper(currency)),
    default_duration_minutes INTEGER CHECK (default_duration_minutes BETWEEN 1 AND 1440),
    consultation_modes       TEXT NOT NULL DEFAULT '["in_person"]',
    booking_enabled          INTEGER NOT NULL DEFAULT 1,
    accepts_emergencies      INTEGER NOT NULL DEFAULT 1,
    max_daily_appointments   INTEGER CHECK (max_daily_appointments BETWEEN 1 AND 200),
    started_on               TEXT NOT NULL,
    ended_on                 TEXT,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    CHECK ((consultation_fee_minor IS NULL) = (currency IS NULL)),
    CHECK (ended_on IS NULL OR ended_on >= started_on)
) STRICT;
-- One live engagement per provider and clinic; ended ones stay as history.
CREATE UNIQUE INDEX provider_clinics_live_key ON provider_clinics (provider_id, clinic_id) WHERE status <> 'ended';
CREATE UNIQUE INDEX provider_clinics_one_primary ON provider_clinics (provider_id) WHERE is_primary = 1 AND status <> 'ended';
CREATE INDEX provider_clinics_clinic_idx ON provider_clinics (clinic_id, status);

CREATE TABLE provider_services (
    provider_id BLOB NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    service_id  BLOB NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    fee_minor   INTEGER CHECK (fee_minor >= 0),
    currency    TEXT CHECK (length(currency) = 3 AND currency = upper(currency)),
    is_active   INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (provider_id, service_id),
    CHECK ((fee_minor IS NULL) = (currency IS NULL))
) STRICT;
CREATE INDEX provider_services_service_idx ON provider_services (service_id);

CREATE TABLE availability_rules (
    id             BLOB PRIMARY KEY,
    clinic_id      BLOB NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    provider_id    BLOB NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    day_of_week    INTEGER NOT NULL CHECK (day_of_week BETWEEN 1 AND 7),
    start_time     TEXT NOT NULL CHECK (start_time GLOB '[0-2][0-9]:[0-5][0-9]' AND start_time < '24:00'),
    end_time       TEXT NOT NULL CHECK (end_time GLOB '[0-2][0-9]:[0-5][0-9]' AND end_time < '24:00'),
    breaks         TEXT NOT NULL DEFAULT '[]',
    is_working_day INTEGER NOT NULL DEFAULT 1,
    mode           TEXT NOT NULL DEFAULT 'any' CHECK (mode IN ('in_person', 'video', 'any')),
    valid_from     TEXT,
    valid_until    TEXT,
    is_active      INTEGER NOT NULL DEFAULT 1,
    notes          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK (end_time > start_time),
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from)
) STRICT;
CREATE INDEX availability_rules_provider_idx ON availability_rules (provider_id, clinic_id, day_of_week);

CREATE TABLE availability_exceptions (
    id                 BLOB PRIMARY KEY,
    clinic_id          BLOB NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    provider_id        BLOB NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    date               TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('unavailable', 'available')),
    start_time         TEXT CHECK (start_time GLOB '[0-2][0-9]:[0-5][0-9]' AND start_time < '24:00'),
    end_time           TEXT CHECK (end_time GLOB '[0-2][0-9]:[0-5][0-9]' AND end_time < '24:00'),
    mode               TEXT NOT NULL DEFAULT 'any' CHECK (mode IN ('in_person', 'video', 'any')),
    reason             TEXT,
    created_by_user_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at         INTEGER NOT NULL,
    CHECK ((start_time IS NULL) = (end_time IS NULL)),
    CHECK (end_time IS NULL OR end_time > start_time),
    CHECK (kind = 'unavailable' OR start_time IS NOT NULL)
) STRICT;
CREATE INDEX availability_exceptions_provider_idx ON availability_exceptions (provider_id, clinic_id, date);

CREATE TABLE provider_time_off (
    id                   BLOB PRIMARY KEY,
    provider_id          BLOB NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    clinic_id            BLOB REFERENCES clinics (id) ON DELETE CASCADE,
    starts_at            INTEGER NOT NULL,
    ends_at              INTEGER NOT NULL,
    reason               TEXT,
    status               TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected', 'cancelled')),
    requested_by_user_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    decided_by_user_id   BLOB REFERENCES users (id) ON DELETE SET NULL,
    decided_at           INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
) STRICT;
CREATE INDEX provider_time_off_provider_idx ON provider_time_off (provider_id, starts_at);

CREATE TABLE appointments (
    id                     BLOB PRIMARY KEY,
    clinic_id              BLOB NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    number                 TEXT NOT NULL,
    patient_id             BLOB NOT NULL REFERENCES patients (id) ON DELETE RESTRICT,
    provider_id            BLOB NOT NULL REFERENCES providers (id) ON DELETE RESTRICT,
    service_id             BLOB REFERENCES services (id) ON DELETE RESTRICT,
    status                 TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('pending_payment', 'scheduled',
                               'confirmed', 'checked_in', 'in_progress', 'completed', 'cancelled', 'no_show')),
    priority               TEXT NOT NULL DEFAULT 'standard' CHECK (priority IN ('standard', 'urgent', 'emergency')),
    mode                   TEXT NOT NULL DEFAULT 'in_person' CHECK (mode IN ('in_person', 'video')),
    start_at               INTEGER NOT NULL,
    end_at                 INTEGER NOT NULL,
    busy_start_at          INTEGER NOT NULL,
    busy_end_at            INTEGER NOT NULL,
    local_date             TEXT NOT NULL,
    over_daily_cap         INTEGER NOT NULL DEFAULT 0,
    reason_for_visit       TEXT,
    notes                  TEXT,
    fee_minor              INTEGER CHECK (fee_minor >= 0),
    currency               TEXT CHECK (length(currency) = 3 AND currency = upper(currency)),
    hold_expires_at        INTEGER,
    assigned_from_waitlist INTEGER NOT NULL DEFAULT 0,
    booked_by_user_id      BLOB REFERENCES users (id) ON DELETE SET NULL,
    confirmed_at           INTEGER,
    checked_in_at          INTEGER,
    started_at             INTEGER,
    completed_at           INTEGER,
    cancelled_at           INTEGER,
    cancelled_by           BLOB REFERENCES users (id) ON DELETE SET NULL,
    cancellation_reason    TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    CONSTRAINT appointments_clinic_number_key UNIQUE (clinic_id, number),
    CHECK (end_at > start_at),
    CHECK (busy_start_at <= start_at AND busy_end_at >= end_at),
    CHECK ((fee_minor IS NULL) = (currency IS NULL)),
    CHECK (status <> 'cancelled' OR (cancelled_at IS NOT NULL AND cancellation_reason IS NOT NULL))
) STRICT;
CREATE INDEX appointments_provider_busy_idx ON appointments (provider_id, busy_start_at);
CREATE INDEX appointments_clinic_start_idx ON appointments (clinic_id, start_at);
CREATE INDEX appointments_patient_start_idx ON appointments (patient_id, start_at);

-- Per-clinic, per-day counters behind APT-YYYYMMDD-NNN; bumped in the booking transaction.
CREATE TABLE appointment_number_sequences (
    clinic_id  BLOB NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    local_date TEXT NOT NULL,
    last_value INTEGER NOT NULL CHECK (last_value > 0),
    PRIMARY KEY (clinic_id, local_date)
) STRICT;

-- How many appointments hold a provider's day, so the daily cap holds under concurrency: the
-- booking increments the row only while it is below the cap.
CREATE TABLE provider_day_loads (
    provider_id BLOB NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    local_date  TEXT NOT NULL,
    booked      INTEGER NOT NULL CHECK (booked >= 0),
    PRIMARY KEY (provider_id, local_date)
) STRICT;
