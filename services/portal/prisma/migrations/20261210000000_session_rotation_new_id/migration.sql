-- A sign-out form from before another tab's sign-in is traced back from the new session id.
CREATE INDEX "session_rotation_new" ON "session_rotation"("new_id");
