//! Personal data at rest (等保 level 3): citizens' names and contacts, and the staff's
//! second-factor secrets, are stored sealed with AES-256-GCM under a key that lives outside
//! the database (a key file, or `ZHANQUN_PERSONAL_DATA_KEY`). A copy of the database alone
//! reveals none of them. Where the platform must find rows by a contact (the per-contact
//! limit, duplicate detection on import), it looks them up by a keyed hash of the
//! normalised contact (a blind index), never by the contact itself.
//!
//! A sealed value reads `pd1:` + base64url(nonce ‖ ciphertext ‖ tag). The column it belongs
//! to is the associated data, so a value moved to another column does not open. Values
//! written before sealing existed are sealed at start-up ([`App::seal_personal_data`]).
//!
//! Lists and exports show personal data masked ([`mask_name`], [`mask_contact`]); only the
//! people handling an item see it whole, and each such look goes into the audit trail.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use sqlx::AssertSqlSafe;

use crate::app::App;
use crate::kernel::{AppError, AppResult};

const PREFIX: &str = "pd1:";
/// The environment variable that may carry the key (base64 of 32 bytes) instead of a file.
pub const KEY_ENV: &str = "ZHANQUN_PERSONAL_DATA_KEY";

/// The columns holding personal data, sealed with their name as associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    LetterWriterName,
    LetterWriterContact,
    CommentAuthorContact,
    QuestionAuthorContact,
    TotpSecret,
}

impl Field {
    fn aad(self) -> &'static str {
        match self {
            Field::LetterWriterName => "letters.writer_name",
            Field::LetterWriterContact => "letters.writer_contact",
            Field::CommentAuthorContact => "consultation_comments.author_contact",
            Field::QuestionAuthorContact => "interview_questions.author_contact",
            Field::TotpSecret => "users.totp_secret",
        }
    }

    /// (table, column) of each sealed field that start-up sealing walks.
    const STORED: [(Field, &'static str, &'static str); 5] = [
        (Field::LetterWriterName, "letters", "writer_name"),
        (Field::LetterWriterContact, "letters", "writer_contact"),
        (Field::CommentAuthorContact, "consultation_comments", "author_contact"),
        (Field::QuestionAuthorContact, "interview_questions", "author_contact"),
        (Field::TotpSecret, "users", "totp_secret"),
    ];
}

/// The key, split into one for sealing and one for the blind index.
pub struct PersonalData {
    seal: LessSafeKey,
    index: hmac::Key,
    /// Names the key without revealing it: stored in the database on first start, so a node
    /// started with another key refuses to run instead of writing what the others cannot read.
    check: String,
    /// Where the key came from, for messages.
    pub source: String,
}

impl std::fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonalData").field("source", &self.source).finish_non_exhaustive()
    }
}

fn derive(master: &[u8], label: &str) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, master);
    hmac::sign(&k, label.as_bytes()).as_ref().to_vec()
}

impl PersonalData {
    /// A key from its 32 bytes.
    pub fn from_key(master: &[u8], source: impl Into<String>) -> anyhow::Result<PersonalData> {
        anyhow::ensure!(master.len() == 32, "the personal-data key must be 32 bytes (base64 of 32 random bytes)");
        let seal = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &derive(master, "zhanqun personal data seal v1"))
                .map_err(|_| anyhow::anyhow!("AES-256-GCM key"))?,
        );
        let index = hmac::Key::new(hmac::HMAC_SHA256, &derive(master, "zhanqun personal data index v1"));
        let check = hex::encode(&derive(master, "zhanqun personal data check v1")[..16]);
        Ok(PersonalData { seal, index, check, source: source.into() })
    }

    /// The key from `ZHANQUN_PERSONAL_DATA_KEY`, else from `configured` (which must
    /// exist), else from `DATA_DIR/personal-data.key`, made (readable by its owner only)
    /// when missing.
    pub fn load(configured: Option<&Path>, data_dir: &Path) -> anyhow::Result<PersonalData> {
        if let Ok(v) = std::env::var(KEY_ENV) {
            let bytes = STANDARD.decode(v.trim()).with_context(|| format!("{KEY_ENV} is not base64"))?;
            return PersonalData::from_key(&bytes, KEY_ENV);
        }
        let path: PathBuf = match configured {
            Some(p) => {
                anyhow::ensure!(
                    p.exists(),
                    "personal_data_key_file {} does not exist; make one with `head -c 32 /dev/urandom | base64 > {}` \
                     (the same file on every node), readable only by the service",
                    p.display(),
                    p.display()
                );
                p.to_path_buf()
            }
            None => {
                let p = data_dir.join("personal-data.key");
                if !p.exists() {
                    write_new_key(&p)?;
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let bytes = STANDARD
            .decode(text.trim())
            .with_context(|| format!("{} does not hold base64 of a key", path.display()))?;
        PersonalData::from_key(&bytes, path.display().to_string()).with_context(|| format!("in {}", path.display()))
    }

    /// `plain`, sealed for `field`.
    pub fn seal(&self, field: Field, plain: &str) -> AppResult<String> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut buf = plain.as_bytes().to_vec();
        // AES-GCM refuses only inputs past 64 GiB, far beyond any field here.
        self.seal
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(field.aad()), &mut buf)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("AES-GCM refused to seal a {}", field.aad())))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// A stored value of `field`, opened. A value that is not sealed (written before
    /// sealing, not yet converted) is returned as it is.
    pub fn open(&self, field: Field, stored: &str) -> AppResult<String> {
        let Some(b64) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_string()) };
        let fail = || {
            AppError::Internal(anyhow::anyhow!(
                "a sealed {} does not open with the personal-data key from {}: wrong key, or the value was altered",
                field.aad(),
                self.source
            ))
        };
        let mut bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|_| fail())?;
        if bytes.len() < NONCE_LEN {
            return Err(fail());
        }
        let nonce = Nonce::try_assume_unique_for_key(&bytes[..NONCE_LEN]).map_err(|_| fail())?;
        let plain =
            self.seal.open_in_place(nonce, Aad::from(field.aad()), &mut bytes[NONCE_LEN..]).map_err(|_| fail())?;
        String::from_utf8(plain.to_vec()).map_err(|_| fail())
    }

    /// The blind index of a contact: equal for the same phone or e-mail however it was
    /// typed (case, spaces, dashes), and useless without the key.
    pub fn index(&self, contact: &str) -> String {
        let norm = normalize_contact(contact);
        hex::encode(&hmac::sign(&self.index, norm.as_bytes()).as_ref()[..16])
    }

    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

fn write_new_key(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(f, "{}", STANDARD.encode(key)).with_context(|| format!("cannot write {}", path.display()))?;
    f.sync_all()?;
    tracing::warn!(
        "made a new personal-data key in {}: back it up apart from the database (without it no sealed name or contact can be read)",
        path.display()
    );
    Ok(())
}

/// A contact as the blind index sees it: trimmed, lower case, no spaces or dashes.
pub fn normalize_contact(c: &str) -> String {
    c.trim().to_lowercase().chars().filter(|ch| !ch.is_whitespace() && *ch != '-').collect()
}

/// A name for lists: the first character, then one `*` per further character (at most two).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().clamp(1, 2);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// A contact for lists: a phone keeps its first three and last four digits
/// (`138****5678`), an e-mail its first character and its domain (`z***@example.com`).
pub fn mask_contact(contact: &str) -> String {
    let c = contact.trim();
    if let Some((user, domain)) = c.split_once('@') {
        let first: String = user.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let digits: Vec<char> = c.chars().filter(|ch| ch.is_ascii_digit()).collect();
    if digits.len() >= 7 {
        let head: String = digits[..3].iter().collect();
        let tail: String = digits[digits.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        "****".into()
    }
}

impl App {
    /// Checks the key against the one this database was sealed with (recording it on first
    /// start), then seals every personal value still stored in the clear, and fills the
    /// blind index of letters that lack it. Runs at start-up; a second node finds nothing
    /// left to do.
    pub async fn seal_personal_data(&self) -> AppResult<usize> {
        let pd = &self.personal;
        let mut w = self.db.begin_write().await?;
        let known: Option<String> = sqlx::query_scalar("SELECT value FROM secrets WHERE name = 'personal_data_key'")
            .fetch_optional(w.conn())
            .await?;
        match known {
            Some(k) if k != pd.check => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "the personal-data key from {} is not the key this database's personal data is sealed with; \
                     start every node with the same key (personal_data_key_file or {KEY_ENV})",
                    pd.source
                )));
            }
            Some(_) => {}
            None => {
                sqlx::query("INSERT INTO secrets (name, value) VALUES ('personal_data_key', $1)")
                    .bind(&pd.check)
                    .execute(w.conn())
                    .await?;
            }
        }
        let mut sealed = 0;
        for (field, table, column) in Field::STORED {
            // Table and column names come from the constant list above, never from input.
            let rows: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} NOT LIKE 'pd1:%'"
            )))
            .fetch_all(w.conn())
            .await?;
            for (id, plain) in rows {
                sqlx::query(AssertSqlSafe(format!("UPDATE {table} SET {column} = $1 WHERE id = $2")))
                    .bind(pd.seal(field, &plain)?)
                    .bind(id)
                    .execute(w.conn())
                    .await?;
                sealed += 1;
            }
        }
        let unindexed: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, writer_contact FROM letters WHERE writer_contact_index IS NULL")
                .fetch_all(w.conn())
                .await?;
        for (id, stored) in unindexed {
            let contact = pd.open(Field::LetterWriterContact, &stored)?;
            sqlx::query("UPDATE letters SET writer_contact_index = $1 WHERE id = $2")
                .bind(pd.index(&contact))
                .bind(id)
                .execute(w.conn())
                .await?;
        }
        w.commit().await?;
        if sealed > 0 {
            tracing::info!("sealed {sealed} personal values that were stored in the clear");
        }
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PersonalData {
        PersonalData::from_key(&[7u8; 32], "test").unwrap()
    }

    #[test]
    fn sealed_values_open_only_in_their_own_column_and_with_their_key() {
        let pd = key();
        let s = pd.seal(Field::LetterWriterContact, "13800001234").unwrap();
        assert!(s.starts_with("pd1:") && !s.contains("13800001234"));
        assert_ne!(s, pd.seal(Field::LetterWriterContact, "13800001234").unwrap(), "a fresh nonce each time");
        assert_eq!(pd.open(Field::LetterWriterContact, &s).unwrap(), "13800001234");
        assert!(pd.open(Field::LetterWriterName, &s).is_err(), "another column's associated data");
        let other = PersonalData::from_key(&[8u8; 32], "other").unwrap();
        assert!(other.open(Field::LetterWriterContact, &s).is_err());
        let mut tampered = s.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(pd.open(Field::LetterWriterContact, &String::from_utf8(tampered).unwrap()).is_err());
        assert_eq!(pd.open(Field::LetterWriterName, "张三").unwrap(), "张三", "legacy clear text");
    }

    #[test]
    fn the_blind_index_ignores_spelling_but_not_the_key() {
        let pd = key();
        assert_eq!(pd.index(" 138-0000-1234 "), pd.index("13800001234"));
        assert_eq!(pd.index("Zhang@Example.com"), pd.index("zhang@example.com"));
        assert_ne!(pd.index("13800001234"), pd.index("13800001235"));
        let other = PersonalData::from_key(&[8u8; 32], "other").unwrap();
        assert_ne!(pd.index("13800001234"), other.index("13800001234"));
    }

    #[test]
    fn masks_keep_enough_to_tell_people_apart_and_no_more() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧**");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_contact("13800001234"), "138****1234");
        assert_eq!(mask_contact("0532-8591 2345"), "053****2345");
        assert_eq!(mask_contact("zhang.san@example.com"), "z***@example.com");
        assert_eq!(mask_contact("12"), "****");
    }
}
