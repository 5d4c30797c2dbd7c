-- The template editor: drafts that are saved as people type, so that a crash or a closed window
-- loses nothing. One draft per template, locale and user; saving a version removes it.
-- Saves check templates.revision (which every save increases) to detect concurrent edits.
CREATE TABLE template_drafts (
    template_id    bigint NOT NULL REFERENCES templates ON DELETE CASCADE,
    locale         text NOT NULL,
    username       text NOT NULL DEFAULT current_user,
    base_revision  integer NOT NULL,              -- templates.revision the draft started from
    subject        text NOT NULL DEFAULT '',
    html_body      text NOT NULL DEFAULT '',
    text_body      text NOT NULL DEFAULT '',      -- empty: generated from the HTML
    saved_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (template_id, locale, username)
);

