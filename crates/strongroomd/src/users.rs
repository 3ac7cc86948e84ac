//! Appliance users (catalog SH-U-01..SH-U-09, RA-40/41): who may log in to the appliance
//! shell, with which role, and how.
//!
//! The users live in `DATA_DIR/appliance/users.toml` (owner-only, replaced atomically: written
//! to a temporary file, synced, renamed, directory synced). Passwords are kept only as Argon2id
//! PHC strings. Every read-modify-write holds an exclusive lock on `users.lock`, so the daemon
//! and `strongroomd recover` never lose each other's changes; the file is read afresh for each
//! login and command, so a change made by one process is seen by the other at once.
//!
//! Built-in users: `admin` (enabled, factory password `PASSWORD` to be changed at first login,
//! unless the development appliance set a generated one), and `operator`, `monitor`, `audit`
//! (disabled, `PASSWORD`, changed at first login). Built-in users cannot be deleted, `admin`
//! cannot be disabled nor lose its role.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::shell::Role;

/// The factory password of every built-in user (and of `admin` after `recover`).
pub const FACTORY_PASSWORD: &str = "PASSWORD";

/// The built-in appliance users and their roles.
pub const BUILT_IN: [(&str, Role); 4] = [
    ("admin", Role::Admin),
    ("operator", Role::Operator),
    ("monitor", Role::Monitor),
    ("audit", Role::Audit),
];

/// Most public keys one user may register.
const MAX_KEYS: usize = 32;
/// Most appliance users.
const MAX_USERS: usize = 64;

impl Role {
    /// The role's name as the shell shows and takes it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Monitor => "monitor",
            Role::Audit => "audit",
        }
    }

    /// The role named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        BUILT_IN
            .iter()
            .map(|(_, r)| *r)
            .find(|r| r.name().eq_ignore_ascii_case(name))
    }
}

/// One user as stored.
#[derive(Clone, Serialize, Deserialize)]
struct UserRecord {
    name: String,
    role: String,
    enabled: bool,
    /// Argon2id PHC string.
    password: String,
    /// The password must be changed before anything else (first login, after a reset).
    must_change: bool,
    #[serde(default)]
    full_name: String,
    /// OpenSSH public key lines (`ssh-ed25519 AAAA... comment`).
    #[serde(default)]
    public_keys: Vec<String>,
}

#[derive(Default, Serialize, Deserialize)]
struct UsersFile {
    #[serde(default, rename = "user")]
    users: Vec<UserRecord>,
}

impl UsersFile {
    fn find(&self, name: &str) -> Option<&UserRecord> {
        self.users.iter().find(|u| u.name == name)
    }
    fn find_mut(&mut self, name: &str) -> Result<&mut UserRecord, String> {
        self.users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| format!("there is no appliance user '{name}'"))
    }
}

/// What the shell and the SSH server learn about a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// The user name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// Whether the user may log in.
    pub enabled: bool,
    /// Whether the password must be changed before anything else.
    pub must_change: bool,
    /// Whether this is one of the four built-in users.
    pub built_in: bool,
    /// A free-text full name.
    pub full_name: String,
    /// Number of registered public keys.
    pub keys: usize,
}

impl UserRecord {
    fn info(&self) -> UserInfo {
        UserInfo {
            name: self.name.clone(),
            // An unknown role name in the file grants nothing beyond monitoring.
            role: Role::from_name(&self.role).unwrap_or(Role::Monitor),
            enabled: self.enabled,
            must_change: self.must_change,
            built_in: is_built_in(&self.name),
            full_name: self.full_name.clone(),
            keys: self.public_keys.len(),
        }
    }
}

fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(n, _)| *n == name)
}

/// The outcome of a password check.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Right password, enabled user.
    Accepted(UserInfo),
    /// Right password, but the user is disabled.
    Disabled,
    /// Unknown user or wrong password (not told apart to the caller's peer).
    Rejected,
}

/// One registered public key, for `publickey list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// `ssh-ed25519`, `ssh-rsa`, ...
    pub algorithm: String,
    /// `SHA256:...`.
    pub fingerprint: String,
    /// The key's comment.
    pub comment: String,
}

/// The appliance users of one data directory.
#[derive(Clone, Debug)]
pub struct UserStore {
    dir: PathBuf,
}

/// Checks a user name: 1-32 characters of `a-z A-Z 0-9 _ - .`, starting with a letter.
pub(crate) fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a valid user name (1-32 characters of letters, digits, '_', '-', \
             '.', starting with a letter)"
        ))
    }
}

/// Checks a new appliance password: the module's password rules, and not the factory one.
pub(crate) fn validate_password(password: &str) -> Result<(), String> {
    strongroom_module::validate::password(password).map_err(|e| e.message().to_owned())?;
    if password == FACTORY_PASSWORD {
        return Err("the factory password cannot be chosen again".into());
    }
    Ok(())
}

fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| "the random source failed".to_owned())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    // OWASP's recommended Argon2id parameters: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| e.to_string())?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Constant-time check of `password` against a PHC string (parameters come from the string).
fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn parse_key(line: &str) -> Result<russh::keys::PublicKey, String> {
    russh::keys::PublicKey::from_openssh(line.trim())
        .map_err(|e| format!("not an OpenSSH public key: {e}"))
}

/// The `SHA256:...` fingerprint of a public key, as OpenSSH shows it.
pub fn fingerprint(key: &russh::keys::PublicKey) -> String {
    key.fingerprint(russh::keys::HashAlg::Sha256).to_string()
}

impl UserStore {
    /// The users of `data_dir`; the file with the built-in users is created on first use.
    pub fn open(data_dir: &Path) -> Result<Self, String> {
        let store = Self {
            dir: data_dir.join("appliance"),
        };
        std::fs::create_dir_all(&store.dir)
            .and_then(|()| {
                std::fs::set_permissions(&store.dir, std::fs::Permissions::from_mode(0o700))
            })
            .map_err(|e| format!("cannot prepare {}: {e}", store.dir.display()))?;
        let _lock = store.lock()?;
        if !store.path().exists() {
            let mut file = UsersFile::default();
            for (name, role) in BUILT_IN {
                file.users.push(UserRecord {
                    name: name.to_owned(),
                    role: role.name().to_owned(),
                    enabled: name == "admin",
                    password: hash(FACTORY_PASSWORD)?,
                    must_change: true,
                    full_name: String::new(),
                    public_keys: Vec::new(),
                });
            }
            store.save(&file)?;
            tracing::info!("appliance users created: admin enabled with the factory password");
        }
        Ok(store)
    }

    fn path(&self) -> PathBuf {
        self.dir.join("users.toml")
    }

    /// Holds the exclusive lock of the users file until dropped.
    fn lock(&self) -> Result<File, String> {
        let path = self.dir.join("users.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        file.lock()
            .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
        Ok(file)
    }

    fn load(&self) -> Result<UsersFile, String> {
        let path = self.path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn save(&self, file: &UsersFile) -> Result<(), String> {
        let text = toml::to_string(file).map_err(|e| e.to_string())?;
        write_atomically(&self.path(), text.as_bytes())
    }

    /// Loads, lets `f` change, and saves the users under the lock.
    fn update<R>(&self, f: impl FnOnce(&mut UsersFile) -> Result<R, String>) -> Result<R, String> {
        let _lock = self.lock()?;
        let mut file = self.load()?;
        let out = f(&mut file)?;
        self.save(&file)?;
        Ok(out)
    }

    fn read(&self) -> Result<UsersFile, String> {
        let _lock = self.lock()?;
        self.load()
    }

    /// The user `name`, if it exists.
    pub fn info(&self, name: &str) -> Option<UserInfo> {
        self.read().ok()?.find(name).map(UserRecord::info)
    }

    /// Every user, in creation order.
    pub fn list(&self) -> Result<Vec<UserInfo>, String> {
        Ok(self.read()?.users.iter().map(UserRecord::info).collect())
    }

    /// Checks a login password.
    pub fn check_password(&self, name: &str, password: &str) -> PasswordCheck {
        let Ok(file) = self.read() else {
            return PasswordCheck::Rejected;
        };
        let Some(user) = file.find(name) else {
            // Spend the same effort as for a known user.
            if let Some(dummy) = dummy_hash() {
                let _ = verify(password, dummy);
            }
            return PasswordCheck::Rejected;
        };
        if !verify(password, &user.password) {
            return PasswordCheck::Rejected;
        }
        if !user.enabled {
            return PasswordCheck::Disabled;
        }
        PasswordCheck::Accepted(user.info())
    }

    /// The user `name` if `key` is one of its registered keys (whether enabled or not).
    pub fn key_owner(&self, name: &str, key: &russh::keys::PublicKey) -> Option<UserInfo> {
        let file = self.read().ok()?;
        let user = file.find(name)?;
        user.public_keys
            .iter()
            .filter_map(|line| parse_key(line).ok())
            .any(|k| k.key_data() == key.key_data())
            .then(|| user.info())
    }

    /// `user add`: a new user with `role` and a password to change at first login.
    pub fn add(
        &self,
        name: &str,
        role: Role,
        password: &str,
        full_name: &str,
    ) -> Result<(), String> {
        validate_name(name)?;
        validate_password(password)?;
        let hashed = hash(password)?;
        self.update(|file| {
            if file.find(name).is_some() || name == "recover" {
                return Err(format!("the user '{name}' already exists"));
            }
            if file.users.len() >= MAX_USERS {
                return Err(format!("at most {MAX_USERS} appliance users can exist"));
            }
            file.users.push(UserRecord {
                name: name.to_owned(),
                role: role.name().to_owned(),
                enabled: true,
                password: hashed,
                must_change: true,
                full_name: full_name.to_owned(),
                public_keys: Vec::new(),
            });
            Ok(())
        })
    }

    /// `user delete` (not a built-in user).
    pub fn delete(&self, name: &str) -> Result<(), String> {
        if is_built_in(name) {
            return Err(format!("the built-in user '{name}' cannot be deleted"));
        }
        self.update(|file| {
            let before = file.users.len();
            file.users.retain(|u| u.name != name);
            if file.users.len() == before {
                return Err(format!("there is no appliance user '{name}'"));
            }
            Ok(())
        })
    }

    /// `user enable` / `user disable` (`admin` cannot be disabled).
    pub fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), String> {
        if name == "admin" && !enabled {
            return Err("the user 'admin' cannot be disabled".into());
        }
        self.update(|file| {
            file.find_mut(name)?.enabled = enabled;
            Ok(())
        })
    }

    /// `user role`: gives a custom user another role.
    pub fn set_role(&self, name: &str, role: Role) -> Result<(), String> {
        if is_built_in(name) {
            return Err(format!(
                "the built-in user '{name}' keeps its role; create a custom user instead"
            ));
        }
        self.update(|file| {
            file.find_mut(name)?.role = role.name().to_owned();
            Ok(())
        })
    }

    /// `user password`: an administrator sets another user's password, to be changed at that
    /// user's next login.
    pub fn reset_password(&self, name: &str, password: &str) -> Result<(), String> {
        validate_password(password)?;
        let hashed = hash(password)?;
        self.update(|file| {
            let user = file.find_mut(name)?;
            user.password = hashed;
            user.must_change = true;
            Ok(())
        })
    }

    /// `my password set` and the forced change: the current password is required.
    pub fn change_own_password(&self, name: &str, old: &str, new: &str) -> Result<(), String> {
        validate_password(new)?;
        if old == new {
            return Err("the new password must differ from the current one".into());
        }
        let hashed = hash(new)?;
        self.update(|file| {
            let user = file.find_mut(name)?;
            if !verify(old, &user.password) {
                return Err("the current password is incorrect".into());
            }
            user.password = hashed;
            user.must_change = false;
            Ok(())
        })
    }

    /// Sets a password that needs no change at first login (the development appliance's
    /// generated admin password).
    pub fn set_password_unexpired(&self, name: &str, password: &str) -> Result<(), String> {
        validate_password(password)?;
        let hashed = hash(password)?;
        self.update(|file| {
            let user = file.find_mut(name)?;
            user.password = hashed;
            user.must_change = false;
            Ok(())
        })
    }

    /// `recover`: `admin` gets the factory password back, to be changed at its next login,
    /// and is enabled. Nothing else changes.
    pub fn recover_admin(&self) -> Result<(), String> {
        let hashed = hash(FACTORY_PASSWORD)?;
        self.update(|file| {
            let admin = file.find_mut("admin")?;
            admin.password = hashed;
            admin.must_change = true;
            admin.enabled = true;
            admin.role = Role::Admin.name().to_owned();
            Ok(())
        })
    }

    /// `publickey add`: registers an OpenSSH public key line for `name`.
    pub fn add_key(&self, name: &str, line: &str) -> Result<KeyInfo, String> {
        let first = line
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or("the file holds no public key")?;
        let key = parse_key(first)?;
        let info = key_info(&key);
        let canonical = key.to_openssh().map_err(|e| e.to_string())?;
        self.update(|file| {
            let user = file.find_mut(name)?;
            if user
                .public_keys
                .iter()
                .filter_map(|l| parse_key(l).ok())
                .any(|k| k.key_data() == key.key_data())
            {
                return Err(format!(
                    "the key {} is already registered for '{name}'",
                    info.fingerprint
                ));
            }
            if user.public_keys.len() >= MAX_KEYS {
                return Err(format!("at most {MAX_KEYS} keys per user"));
            }
            user.public_keys.push(canonical);
            Ok(())
        })?;
        Ok(info)
    }

    /// `publickey delete`: removes the key with this fingerprint.
    pub fn delete_key(&self, name: &str, fingerprint_text: &str) -> Result<(), String> {
        self.update(|file| {
            let user = file.find_mut(name)?;
            let before = user.public_keys.len();
            user.public_keys
                .retain(|l| parse_key(l).map_or(true, |k| fingerprint(&k) != fingerprint_text));
            if user.public_keys.len() == before {
                return Err(format!(
                    "no key with fingerprint {fingerprint_text} is registered for '{name}'"
                ));
            }
            Ok(())
        })
    }

    /// `publickey list`.
    pub fn keys(&self, name: &str) -> Result<Vec<KeyInfo>, String> {
        let file = self.read()?;
        let user = file
            .find(name)
            .ok_or_else(|| format!("there is no appliance user '{name}'"))?;
        Ok(user
            .public_keys
            .iter()
            .filter_map(|l| parse_key(l).ok())
            .map(|k| key_info(&k))
            .collect())
    }
}

fn key_info(key: &russh::keys::PublicKey) -> KeyInfo {
    KeyInfo {
        algorithm: key.algorithm().as_str().to_owned(),
        fingerprint: fingerprint(key),
        comment: key.comment().to_string(),
    }
}

/// An Argon2id hash of a random password, verified against for unknown users so that they
/// cost as much as known ones.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let mut bytes = [0u8; 16];
            SystemRandom::new().fill(&mut bytes).ok()?;
            let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            hash(&text).ok()
        })
        .as_deref()
}

/// Writes `bytes` to `path` so that a crash leaves either the old or the new file: a
/// temporary file (owner-only) is written and synced, renamed over `path`, and the directory
/// is synced.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().ok_or("no parent directory")?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests;
