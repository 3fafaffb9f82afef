-- The 党政机关网站标识 (party-and-government site label, R1.2): the verification link the
-- registering authority issues with the red label, shown in the site's footer.
ALTER TABLE sites ADD COLUMN party_label_url TEXT;
