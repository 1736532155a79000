-- Reminders: how long before an appointment each of a clinic's two reminders goes out (the
-- day-before one and the same-day one; each can be switched off with reminder_*_enabled).

ALTER TABLE clinic_booking_settings
    ADD COLUMN reminder_24h_lead_minutes INTEGER NOT NULL DEFAULT 1440 CHECK (reminder_24h_lead_minutes BETWEEN 60 AND 10080);
ALTER TABLE clinic_booking_settings
    ADD COLUMN reminder_2h_lead_minutes INTEGER NOT NULL DEFAULT 120 CHECK (reminder_2h_lead_minutes BETWEEN 15 AND 1440);

-- A reminder's notification says which appointment it is about.
CREATE INDEX notifications_appointment_idx ON notifications (appointment_id, type);
