//! Who may reach the private server: its directories belong to the user the server runs as
//! and nobody else may enter them (the socket's directory is 0700, so no other local account
//! can even try), and every connection, over the socket or TCP, needs the generated password
//! (`scram-sha-256`); `pg_hba.conf` has no replication entry and trusts nobody. Without this, any
//! account on the machine could connect as the superuser and run `COPY ... TO PROGRAM` as the
//! server's user.

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// The whole `pg_hba.conf`: the password for every connection, local or TCP; nothing else
/// (no `trust`, no `peer`, no replication).
pub const PG_HBA: &str = "\
# Written by the investigator, and again whenever it differs: every connection needs the
# password in ../password (scram-sha-256), over the socket (in a 0700 directory) or TCP (only
# when INVESTIGATOR_POSTGRES_LISTEN asks for it). No replication.
local all all scram-sha-256
host  all all all scram-sha-256
";

/// A user the server's files belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// Its user id.
    pub uid: u32,
    /// Its primary group.
    pub gid: u32,
}

impl Owner {
    /// The user this process runs as.
    pub fn current() -> Result<Owner, String> {
        user_id(None)
    }

    /// The `postgres` user, whom the server runs as when we are root.
    pub fn postgres() -> Result<Owner, String> {
        user_id(Some("postgres"))
    }
}

fn user_id(name: Option<&str>) -> Result<Owner, String> {
    let id = |flag: &str| -> Result<u32, String> {
        let output =
            Command::new("id").arg(flag).args(name).output().map_err(|error| format!("cannot run id: {error}"))?;
        match String::from_utf8_lossy(&output.stdout).trim().parse() {
            Ok(id) if output.status.success() => Ok(id),
            _ => Err(format!(
                "id {flag} {} said: {}",
                name.unwrap_or_default(),
                String::from_utf8_lossy(&output.stderr).trim()
            )),
        }
    };
    Ok(Owner { uid: id("-u")?, gid: id("-g")? })
}

/// Creates `directory` (mode 0700, owned by `owner`) or checks the existing one: a real
/// directory, not a link, owned by `owner`; its mode is then set to 0700. A directory someone
/// else owns is refused, never followed or taken over.
pub fn private_directory(directory: &Path, owner: Owner) -> Result<(), String> {
    match std::fs::symlink_metadata(directory) {
        Ok(metadata) => {
            if !metadata.file_type().is_dir() {
                return Err(format!("{} exists and is not a directory (a link?)", directory.display()));
            }
            // A directory we made as root and had not handed over yet is ours to hand over.
            let made_by_us_as_root = metadata.uid() == 0 && Owner::current().is_ok_and(|me| me.uid == 0);
            if metadata.uid() != owner.uid && !made_by_us_as_root {
                return Err(format!(
                    "{} belongs to user {}, not to the server's user {}: refusing to use it",
                    directory.display(),
                    metadata.uid(),
                    owner.uid
                ));
            }
        }
        Err(_) => {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(directory)
                .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        }
    }
    std::fs::set_permissions(directory, std::fs::Permissions::from_mode(0o700))
        .map_err(|error| format!("cannot make {} private: {error}", directory.display()))?;
    give_to(directory, owner)
}

/// Makes `path` belong to `owner` (a no-op when it does).
pub fn give_to(path: &Path, owner: Owner) -> Result<(), String> {
    let metadata = std::fs::symlink_metadata(path).map_err(|error| format!("{}: {error}", path.display()))?;
    if metadata.uid() == owner.uid && metadata.gid() == owner.gid {
        return Ok(());
    }
    // lchown: a link put in the way is changed itself, never what it points to.
    std::os::unix::fs::lchown(path, Some(owner.uid), Some(owner.gid))
        .map_err(|error| format!("cannot give {} to user {}: {error}", path.display(), owner.uid))
}

/// Writes `contents` to `path` with mode 0600, owned by `owner`, replacing what was there.
pub fn write_private(path: &Path, contents: &str, owner: Owner) -> Result<(), String> {
    let temporary = path.with_extension("writing");
    let _ = std::fs::remove_file(&temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(|error| format!("cannot write {}: {error}", temporary.display()))?;
    file.write_all(contents.as_bytes()).map_err(|error| format!("cannot write {}: {error}", temporary.display()))?;
    drop(file);
    give_to(&temporary, owner)?;
    std::fs::rename(&temporary, path).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// A new password: 32 random bytes from the kernel, in hex (nothing to quote anywhere).
pub fn new_password() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|error| format!("cannot read /dev/urandom: {error}"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The password kept in `path`, when there is one.
pub fn read_password(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let password = text.trim();
    (password.len() >= 32 && password.bytes().all(|byte| byte.is_ascii_hexdigit())).then(|| password.to_owned())
}

/// `path` percent-encoded whole (slashes too), as the host of a PostgreSQL URL naming a socket
/// directory: `postgresql://user:password@%2Fsocket%2Fdirectory:port/database`, which
/// tokio-postgres and libpq both read as that directory.
pub fn socket_host(path: &str) -> String {
    path.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_access_rules_trust_nobody_and_allow_no_replication() {
        let rules: Vec<&str> =
            PG_HBA.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).collect();
        assert_eq!(rules.len(), 2);
        for rule in rules {
            assert!(rule.ends_with("scram-sha-256"), "{rule}");
            assert!(!rule.contains("replication") && !rule.contains("trust") && !rule.contains("peer"), "{rule}");
        }
    }

    #[test]
    fn passwords_are_long_random_and_hex() {
        let (first, second) = (new_password().expect("random"), new_password().expect("random"));
        assert_eq!(first.len(), 64);
        assert_ne!(first, second);
        assert!(first.bytes().all(|byte| byte.is_ascii_hexdigit()));
    }

    #[test]
    fn a_directory_owned_by_someone_else_is_refused_and_a_new_one_is_private() {
        let scratch = std::env::temp_dir().join(format!("investigator-access-{}", new_password().expect("random")));
        let me = Owner::current().expect("id");
        private_directory(&scratch, me).expect("created");
        let mode = std::fs::metadata(&scratch).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let someone_else = Owner { uid: me.uid + 4242, gid: me.gid };
        if me.uid != 0 {
            assert!(private_directory(&scratch, someone_else).is_err(), "not the server user's");
        }
        let link = scratch.with_extension("link");
        std::os::unix::fs::symlink(&scratch, &link).expect("a link");
        assert!(private_directory(&link, me).is_err(), "a link is never followed");
        let _ = std::fs::remove_file(&link);
        let _ = std::fs::remove_dir_all(&scratch);
    }

    #[test]
    fn a_socket_directory_is_one_url_host() {
        assert_eq!(socket_host("/var/lib/investigator/socket"), "%2Fvar%2Flib%2Finvestigator%2Fsocket");
        let url = format!("postgresql://postgres:pw@{}:5433/postgres", socket_host("/home/a b/x@y:z"));
        let config: tokio_postgres::Config = url.parse().expect("a URL");
        assert_eq!(config.get_hosts().len(), 1);
        assert!(
            matches!(&config.get_hosts()[0], tokio_postgres::config::Host::Unix(path) if path.to_str() == Some("/home/a b/x@y:z"))
        );
        assert_eq!(config.get_ports(), [5433]);
    }
}
