-- A sign-in's rotation leaves a short-lived link from the old session id to the new one, so a
-- sign-out that still carries the old cookie (another tab, sent while the sign-in was answered)
-- ends the new session too instead of failing its CSRF check on a session that is gone.
CREATE TABLE "session_rotation" (
    "old_id" TEXT NOT NULL,
    "new_id" TEXT NOT NULL,
    "csrf_digest" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    CONSTRAINT "session_rotation_pkey" PRIMARY KEY ("old_id")
);
CREATE INDEX "session_rotation_expires" ON "session_rotation"("expires_at");
