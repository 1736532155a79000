-- Carebook scheduling: booking settings, catalog, providers and their clinics, weekly
-- availability, exceptions, time off, and appointments that can never double-book.
-- See docs/data-model.md, sections 2.2-2.6.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE clinic_booking_settings (
    clinic_id                   uuid PRIMARY KEY REFERENCES clinics (id) ON DELETE CASCADE,
    slot_granularity_minutes    bigint NOT NULL DEFAULT 15 CHECK (slot_granularity_minutes BETWEEN 5 AND 240),
    min_notice_minutes          bigint NOT NULL DEFAULT 60 CHECK (min_notice_minutes >= 0),
    booking_horizon_days        bigint NOT NULL DEFAULT 60 CHECK (booking_horizon_days BETWEEN 1 AND 730),
    cancellation_notice_minutes bigint NOT NULL DEFAULT 1440 CHECK (cancellation_notice_minutes >= 0),
    patient_self_booking        boolean NOT NULL DEFAULT true,
    requires_prepayment         boolean NOT NULL DEFAULT false,
    payment_hold_minutes        bigint NOT NULL DEFAULT 15 CHECK (payment_hold_minutes > 0),
    waitlist_offer_ttl_minutes  bigint NOT NULL DEFAULT 120 CHECK (waitlist_offer_ttl_minutes > 0),
    reminder_24h_enabled        boolean NOT NULL DEFAULT true,
    reminder_2h_enabled         boolean NOT NULL DEFAULT true,
    updated_at                  timestamptz NOT NULL,
    updated_by_user_id          uuid REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE specializations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    parent_id   uuid REFERENCES specializations (id) ON DELETE SET NULL,
    description text,
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT specializations_name_key UNIQUE (name)
);

CREATE TABLE services (
    id                         uuid PRIMARY KEY,
    clinic_id                  uuid NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    name                       text NOT NULL,
    description                text,
    category                   text,
    duration_minutes           bigint NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    buffer_before_minutes      bigint NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 240),
    buffer_after_minutes       bigint NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 240),
    required_specialization_id uuid REFERENCES specializations (id) ON DELETE SET NULL,
    fee_minor                  bigint CHECK (fee_minor >= 0),
    currency                   text CHECK (currency ~ '^[A-Z]{3}$'),
    billing_code               text,
    modes                      jsonb NOT NULL DEFAULT '["in_person"]',
    is_active                  boolean NOT NULL DEFAULT true,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL,
    deactivated_at             timestamptz,
    CONSTRAINT services_clinic_name_key UNIQUE (clinic_id, name),
    CHECK ((fee_minor IS NULL) = (currency IS NULL))
);

CREATE TABLE providers (
    id                       uuid PRIMARY KEY,
    user_id                  uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    title                    text,
    bio                      text,
    photo_url                text,
    license_number           text,
    registration_number      text,
    practice_start_year      bigint CHECK (practice_start_year BETWEEN 1900 AND 2200),
    qualifications           jsonb NOT NULL DEFAULT '[]',
    languages                jsonb NOT NULL DEFAULT '["en"]',
    default_fee_minor        bigint CHECK (default_fee_minor >= 0),
    currency                 text CHECK (currency ~ '^[A-Z]{3}$'),
    default_duration_minutes bigint NOT NULL DEFAULT 30 CHECK (default_duration_minutes BETWEEN 1 AND 1440),
    emergency_enabled        boolean NOT NULL DEFAULT false,
    max_daily_appointments   bigint NOT NULL DEFAULT 8 CHECK (max_daily_appointments BETWEEN 1 AND 200),
    status                   text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'on_leave', 'busy')),
    verification_status      text NOT NULL DEFAULT 'pending' CHECK (verification_status IN ('pending', 'verified', 'rejected')),
    verification_notes       text,
    verified_at              timestamptz,
    verified_by_user_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    is_active                boolean NOT NULL DEFAULT true,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    deactivated_at           timestamptz,
    CONSTRAINT providers_user_id_key UNIQUE (user_id),
    CONSTRAINT providers_license_number_key UNIQUE (license_number),
    CHECK ((default_fee_minor IS NULL) = (currency IS NULL))
);

CREATE TABLE provider_specializations (
    provider_id       uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    specialization_id uuid NOT NULL REFERENCES specializations (id) ON DELETE RESTRICT,
    is_primary        boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (provider_id, specialization_id)
);
CREATE UNIQUE INDEX provider_specializations_one_primary ON provider_specializations (provider_id) WHERE is_primary;

CREATE TABLE provider_clinics (
    id                       uuid PRIMARY KEY,
    provider_id              uuid NOT NULL REFERENCES providers (id) ON DELETE RESTRICT,
    clinic_id                uuid NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    status                   text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_leave', 'ended')),
    is_primary               boolean NOT NULL DEFAULT false,
    department               text,
    designation              text,
    consultation_fee_minor   bigint CHECK (consultation_fee_minor >= 0),
    currency                 text CHECK (currency ~ '^[A-Z]{3}$'),
    default_duration_minutes bigint CHECK (default_duration_minutes BETWEEN 1 AND 1440),
    consultation_modes       jsonb NOT NULL DEFAULT '["in_person"]',
    booking_enabled          boolean NOT NULL DEFAULT true,
    accepts_emergencies      boolean NOT NULL DEFAULT true,
    max_daily_appointments   bigint CHECK (max_daily_appointments BETWEEN 1 AND 200),
    started_on               date NOT NULL,
    ended_on                 date,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    CHECK ((consultation_fee_minor IS NULL) = (currency IS NULL)),
    CHECK (ended_on IS NULL OR ended_on >= started_on)
);
-- One live engagement per provider and clinic; ended ones stay as history.
CREATE UNIQUE INDEX provider_clinics_live_key ON provider_clinics (provider_id, clinic_id) WHERE status <> 'ended';
CREATE UNIQUE INDEX provider_clinics_one_primary ON provider_clinics (provider_id) WHERE is_primary AND status <> 'ended';
CREATE INDEX provider_clinics_clinic_idx ON provider_clinics (clinic_id, status);

CREATE TABLE provider_services (
    provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    service_id  uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    fee_minor   bigint CHECK (fee_minor >= 0),
    currency    text CHECK (currency ~ '^[A-Z]{3}$'),
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (provider_id, service_id),
    CHECK ((fee_minor IS NULL) = (currency IS NULL))
);
CREATE INDEX provider_services_service_idx ON provider_services (service_id);

CREATE TABLE availability_rules (
    id             uuid PRIMARY KEY,
    clinic_id      uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    provider_id    uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    day_of_week    bigint NOT NULL CHECK (day_of_week BETWEEN 1 AND 7),
    start_time     text NOT NULL CHECK (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    end_time       text NOT NULL CHECK (end_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    breaks         jsonb NOT NULL DEFAULT '[]',
    is_working_day boolean NOT NULL DEFAULT true,
    mode           text NOT NULL DEFAULT 'any' CHECK (mode IN ('in_person', 'video', 'any')),
    valid_from     date,
    valid_until    date,
    is_active      boolean NOT NULL DEFAULT true,
    notes          text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CHECK (end_time > start_time),
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from)
);
CREATE INDEX availability_rules_provider_idx ON availability_rules (provider_id, clinic_id, day_of_week);

CREATE TABLE availability_exceptions (
    id                 uuid PRIMARY KEY,
    clinic_id          uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    provider_id        uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    date               date NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('unavailable', 'available')),
    start_time         text CHECK (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    end_time           text CHECK (end_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    mode               text NOT NULL DEFAULT 'any' CHECK (mode IN ('in_person', 'video', 'any')),
    reason             text,
    created_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL,
    CHECK ((start_time IS NULL) = (end_time IS NULL)),
    CHECK (end_time IS NULL OR end_time > start_time),
    CHECK (kind = 'unavailable' OR start_time IS NOT NULL)
);
CREATE INDEX availability_exceptions_provider_idx ON availability_exceptions (provider_id, clinic_id, date);

CREATE TABLE provider_time_off (
    id                   uuid PRIMARY KEY,
    provider_id          uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    clinic_id            uuid REFERENCES clinics (id) ON DELETE CASCADE,
    starts_at            timestamptz NOT NULL,
    ends_at              timestamptz NOT NULL,
    reason               text,
    status               text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected', 'cancelled')),
    requested_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_by_user_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at           timestamptz,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX provider_time_off_provider_idx ON provider_time_off (provider_id, starts_at);

CREATE TABLE appointments (
    id                     uuid PRIMARY KEY,
    clinic_id              uuid NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    number                 text NOT NULL,
    patient_id             uuid NOT NULL REFERENCES patients (id) ON DELETE RESTRICT,
    provider_id            uuid NOT NULL REFERENCES providers (id) ON DELETE RESTRICT,
    service_id             uuid REFERENCES services (id) ON DELETE RESTRICT,
    status                 text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('pending_payment', 'scheduled',
                               'confirmed', 'checked_in', 'in_progress', 'completed', 'cancelled', 'no_show')),
    priority               text NOT NULL DEFAULT 'standard' CHECK (priority IN ('standard', 'urgent', 'emergency')),
    mode                   text NOT NULL DEFAULT 'in_person' CHECK (mode IN ('in_person', 'video')),
    start_at               timestamptz NOT NULL,
    end_at                 timestamptz NOT NULL,
    busy_start_at          timestamptz NOT NULL,
    busy_end_at            timestamptz NOT NULL,
    local_date             date NOT NULL,
    over_daily_cap         boolean NOT NULL DEFAULT false,
    reason_for_visit       text,
    notes                  text,
    fee_minor              bigint CHECK (fee_minor >= 0),
    currency               text CHECK (currency ~ '^[A-Z]{3}$'),
    hold_expires_at        timestamptz,
    assigned_from_waitlist boolean NOT NULL DEFAULT false,
    booked_by_user_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    confirmed_at           timestamptz,
    checked_in_at          timestamptz,
    started_at             timestamptz,
    completed_at           timestamptz,
    cancelled_at           timestamptz,
    cancelled_by           uuid REFERENCES users (id) ON DELETE SET NULL,
    cancellation_reason    text,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT appointments_clinic_number_key UNIQUE (clinic_id, number),
    CHECK (end_at > start_at),
    CHECK (busy_start_at <= start_at AND busy_end_at >= end_at),
    CHECK ((fee_minor IS NULL) = (currency IS NULL)),
    CHECK (status <> 'cancelled' OR (cancelled_at IS NOT NULL AND cancellation_reason IS NOT NULL)),
    -- No provider is ever in two appointments (buffers included) that hold time, whatever
    -- path wrote them: booking, rescheduling, confirming or an administrator's edit.
    CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
        provider_id WITH =, tstzrange(busy_start_at, busy_end_at, '[)') WITH &&
    ) WHERE (status IN ('pending_payment', 'scheduled', 'confirmed', 'checked_in', 'in_progress')),
    -- Nor is a patient.
    CONSTRAINT appointments_patient_no_overlap EXCLUDE USING gist (
        patient_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&
    ) WHERE (status IN ('pending_payment', 'scheduled', 'confirmed', 'checked_in', 'in_progress'))
);
CREATE INDEX appointments_provider_busy_idx ON appointments (provider_id, busy_start_at);
CREATE INDEX appointments_clinic_start_idx ON appointments (clinic_id, start_at);
CREATE INDEX appointments_patient_start_idx ON appointments (patient_id, start_at);

-- Per-clinic, per-day counters behind APT-YYYYMMDD-NNN; bumped in the booking transaction.
CREATE TABLE appointment_number_sequences (
    clinic_id  uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    local_date date NOT NULL,
    last_value bigint NOT NULL CHECK (last_value > 0),
    PRIMARY KEY (clinic_id, local_date)
);

-- How many appointments hold a provider's day, so the daily cap holds under concurrency: the
-- booking increments the row only while it is below the cap.
CREATE TABLE provider_day_loads (
    provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    local_date  date NOT NULL,
    booked      bigint NOT NULL CHECK (booked >= 0),
    PRIMARY KEY (provider_id, local_date)
);
