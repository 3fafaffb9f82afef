-- A site's own robots.txt (R9.3), kept by its site admin; empty: the platform's default.
ALTER TABLE sites ADD COLUMN robots_txt TEXT;
