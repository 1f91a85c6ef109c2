//! A writer of small, single-directory ISO9660 volumes with Rock Ridge
//! names: the `cidata` seed a VM gets as a read-only CD-ROM.
//!
//! The layout (ECMA-119, 2048-byte sectors):
//!
//! | sector   | what                                                      |
//! |----------|-----------------------------------------------------------|
//! | 0–15     | system area, zeros                                        |
//! | 16       | Primary Volume Descriptor                                 |
//! | 17       | Volume Descriptor Set Terminator                          |
//! | 18       | L-path table (little-endian)                              |
//! | 19       | M-path table (big-endian)                                 |
//! | 20…      | the root directory (one sector unless there are many files) |
//! | then     | the Rock Ridge continuation area (the `ER` entry)         |
//! | then     | each file's data, from a sector boundary                  |
//!
//! ISO9660 itself names files in upper-case 8.3 (`META_DAT.;1`); Linux
//! shows those as `meta_dat.` unless the volume carries Rock Ridge (RRIP
//! 1.10, the `RRIP_1991A` extension of SUSP): an `SP` entry in the root's
//! `.` record, an `ER` entry naming the extension, and in each record an
//! `NM` entry with the real name (`meta-data`) and a `PX` entry with the
//! mode (0444 for files, 0555 for the directory, owned by root). The
//! 8.3 names stay for readers without Rock Ridge. No Joliet: Linux prefers
//! Rock Ridge when both are present, and Rock Ridge alone gives the names.
//!
//! The output depends on the input only: every date is 2000-01-01 00:00:00
//! UTC, so the same files give the same bytes (and blkid shows the same
//! UUID, which ISO9660 derives from the date, for every seed).

use std::collections::HashSet;

/// The size of an ISO9660 logical sector and block, in bytes.
pub const SECTOR: usize = 2048;
/// The most files a volume may hold (a seed has three).
pub const MAX_FILES: usize = 64;
/// The longest file name (Rock Ridge name) taken, in bytes.
pub const MAX_NAME: usize = 64;
/// The longest volume label ISO9660 has room for.
pub const MAX_LABEL: usize = 32;

/// The sector of the Primary Volume Descriptor (after the system area).
const PVD_SECTOR: u32 = 16;
const TERMINATOR_SECTOR: u32 = 17;
const L_PATH_SECTOR: u32 = 18;
const M_PATH_SECTOR: u32 = 19;
const ROOT_SECTOR: u32 = 20;

/// 2000-01-01 00:00:00 UTC as a directory record writes it: years since
/// 1900, month, day, hour, minute, second, offset from UTC in 15 minutes.
const RECORD_DATE: [u8; 7] = [100, 1, 1, 0, 0, 0, 0];
/// The same instant as a volume descriptor writes it (digits, hundredths,
/// then the offset from UTC).
const VOLUME_DATE: &[u8; 17] = b"2000010100000000\0";
/// "Not specified", for the expiration and effective dates.
const NO_DATE: &[u8; 17] = b"0000000000000000\0";

/// The identifier, description and source of RRIP 1.10 (IEEE P1282 draft)
/// as its `ER` entry must spell them; Linux turns Rock Ridge on when it
/// finds this entry.
const RRIP_ID: &[u8] = b"RRIP_1991A";
const RRIP_DESCRIPTION: &[u8] =
    b"THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const RRIP_SOURCE: &[u8] = b"PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

/// POSIX file modes for the `PX` entries: a read-only regular file and a
/// directory anyone may list.
const FILE_MODE: u32 = 0o100_444;
const DIR_MODE: u32 = 0o040_555;

/// Flags of the `RR` entry: which Rock Ridge entries a record has.
const RR_PX: u8 = 0x01;
const RR_NM: u8 = 0x08;

/// Why the volume cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsoError {
    /// The label is empty, too long or has other characters.
    #[error(
        "the volume label {0:?} is not usable: use 1 to 32 letters, digits and '_', such as cidata"
    )]
    Label(String),
    /// A file name ISO9660 with Rock Ridge cannot carry as it is.
    #[error(
        "the file name {0:?} is not usable: use 1 to 64 letters, digits, '.', '_' and '-', \
         not starting with '.'"
    )]
    FileName(String),
    /// Two files with one name.
    #[error("the file name {0:?} is given twice; each file needs a name of its own")]
    DuplicateName(String),
    /// More files than [`MAX_FILES`].
    #[error("{0} files are given; the volume holds at most 64")]
    TooManyFiles(usize),
    /// A file of 4 GiB or more.
    #[error("the file {name:?} has {size} bytes; ISO9660 holds files of at most 4294967295 bytes")]
    FileTooLarge {
        /// The file's name.
        name: String,
        /// Its size in bytes.
        size: usize,
    },
    /// More sectors than ISO9660 can number.
    #[error("the files are too large together for one ISO9660 volume")]
    VolumeTooLarge,
}

/// Writes a single-directory ISO9660 volume with Rock Ridge names holding
/// `files` (name and contents), labelled `volume_label` exactly as given.
///
/// Same input, same bytes. Files are listed in ISO9660 order of their 8.3
/// names; Linux shows them with their own names, read-only.
pub fn iso9660(volume_label: &str, files: &[(&str, &[u8])]) -> Result<Vec<u8>, IsoError> {
    check_label(volume_label)?;
    let entries = entries(files)?;

    // A record's length does not depend on the sectors it names, so the
    // directory is packed once with placeholder sectors to find its size,
    // which fixes where everything after it goes.
    let placeholder = Layout {
        root_sectors: 1,
        ce_sector: 0,
        file_sectors: vec![0; entries.len()],
        total_sectors: 0,
    };
    let lengths: Vec<usize> = records(&entries, &placeholder)
        .iter()
        .map(Vec::len)
        .collect();
    let (offsets, root_sectors) = pack(&lengths);
    let layout = layout(&entries, root_sectors)?;

    let total = usize::try_from(layout.total_sectors)
        .ok()
        .and_then(|n| n.checked_mul(SECTOR))
        .ok_or(IsoError::VolumeTooLarge)?;
    let mut image = vec![0u8; total];

    put(
        &mut image,
        sector(PVD_SECTOR),
        &primary_volume_descriptor(volume_label, &layout),
    );
    put(
        &mut image,
        sector(TERMINATOR_SECTOR),
        &volume_descriptor_set_terminator(),
    );
    put(&mut image, sector(L_PATH_SECTOR), &path_table(false));
    put(&mut image, sector(M_PATH_SECTOR), &path_table(true));
    let root = sector(ROOT_SECTOR);
    for (record, offset) in records(&entries, &layout).iter().zip(&offsets) {
        put(&mut image, root + offset, record);
    }
    put(
        &mut image,
        sector(layout.ce_sector),
        &extensions_reference(),
    );
    for (entry, first) in entries.iter().zip(&layout.file_sectors) {
        put(&mut image, sector(*first), entry.data);
    }
    Ok(image)
}

/// One file as it goes into the directory.
struct Entry<'a> {
    /// The real name, for the Rock Ridge `NM` entry.
    name: &'a str,
    /// The ISO9660 identifier, `META_DAT.;1`.
    identifier: Vec<u8>,
    data: &'a [u8],
    /// The size, checked to fit ISO9660's 32 bits.
    size: u32,
}

/// Where the parts after the path tables go, in sectors.
struct Layout {
    root_sectors: u32,
    /// The Rock Ridge continuation area holding the `ER` entry.
    ce_sector: u32,
    /// Each entry's first sector, in [`entries`] order.
    file_sectors: Vec<u32>,
    total_sectors: u32,
}

impl Layout {
    fn root_size(&self) -> u32 {
        // At most MAX_FILES small records: a few sectors.
        self.root_sectors.saturating_mul(SECTOR as u32)
    }
}

fn check_label(label: &str) -> Result<(), IsoError> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(IsoError::Label(label.to_owned()))
    }
}

fn check_name(name: &str) -> Result<(), IsoError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(IsoError::FileName(name.to_owned()))
    }
}

/// Checks the files and gives each a unique ISO9660 identifier, sorted in
/// the directory's order.
fn entries<'a>(files: &[(&'a str, &'a [u8])]) -> Result<Vec<Entry<'a>>, IsoError> {
    if files.len() > MAX_FILES {
        return Err(IsoError::TooManyFiles(files.len()));
    }
    let mut names = HashSet::new();
    let mut taken = HashSet::new();
    let mut entries = Vec::with_capacity(files.len());
    for (name, data) in files {
        check_name(name)?;
        if !names.insert(*name) {
            return Err(IsoError::DuplicateName((*name).to_owned()));
        }
        let size = u32::try_from(data.len()).map_err(|_| IsoError::FileTooLarge {
            name: (*name).to_owned(),
            size: data.len(),
        })?;
        let (stem, ext) = short_name(name, &taken);
        taken.insert((stem.clone(), ext.clone()));
        let mut identifier = stem;
        identifier.push(b'.');
        identifier.extend_from_slice(&ext);
        identifier.extend_from_slice(b";1");
        entries.push(Entry {
            name,
            identifier,
            data,
            size,
        });
    }
    // ECMA-119 §9.3: ordered by name, then extension, each padded with spaces.
    entries.sort_by_key(|e| sort_key(&e.identifier));
    Ok(entries)
}

/// The 8.3 name (stem, extension) of `name` in d-characters, as
/// genisoimage makes it (`network-config` → `NETWORK_`, ``), with digits
/// at the end of the stem when another file already has that name.
fn short_name(name: &str, taken: &HashSet<(Vec<u8>, Vec<u8>)>) -> (Vec<u8>, Vec<u8>) {
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 => (&name[..dot], &name[dot + 1..]),
        _ => (name, ""),
    };
    let d_chars = |s: &str, max: usize| -> Vec<u8> {
        s.bytes()
            .take(max)
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    b.to_ascii_uppercase()
                } else {
                    b'_'
                }
            })
            .collect()
    };
    let stem = d_chars(stem, 8);
    let ext = d_chars(ext, 3);
    if !taken.contains(&(stem.clone(), ext.clone())) {
        return (stem, ext);
    }
    // At most MAX_FILES - 1 names are taken, so one of the first
    // MAX_FILES numbers is free.
    let numbered = |n: usize| {
        let digits = n.to_string().into_bytes();
        let keep = stem.len().min(8 - digits.len());
        let mut s = stem[..keep].to_vec();
        s.extend_from_slice(&digits);
        (s, ext.clone())
    };
    (1..=MAX_FILES)
        .map(numbered)
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| numbered(MAX_FILES + 1))
}

fn sort_key(identifier: &[u8]) -> ([u8; 8], [u8; 3]) {
    let mut stem = [b' '; 8];
    let mut ext = [b' '; 3];
    let bare = identifier.split(|b| *b == b';').next().unwrap_or_default();
    let mut parts = bare.splitn(2, |b| *b == b'.');
    for (slot, b) in stem.iter_mut().zip(parts.next().unwrap_or_default()) {
        *slot = *b;
    }
    for (slot, b) in ext.iter_mut().zip(parts.next().unwrap_or_default()) {
        *slot = *b;
    }
    (stem, ext)
}

/// The byte offset of a sector.
fn sector(n: u32) -> usize {
    n as usize * SECTOR
}

/// Copies `bytes` into `image` at `at`. Every caller writes inside the
/// image it sized from the same layout; a write outside it would be a bug
/// here (which the tests' read-back would show), and is dropped rather than
/// panicking the server.
fn put(image: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = image.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// Where each record goes in the directory (records may not cross a
/// sector boundary, ECMA-119 §6.8.1.1), and how many sectors it needs.
fn pack(lengths: &[usize]) -> (Vec<usize>, u32) {
    let mut offsets = Vec::with_capacity(lengths.len());
    let mut at = 0;
    for len in lengths {
        if at % SECTOR + len > SECTOR {
            at = at.next_multiple_of(SECTOR);
        }
        offsets.push(at);
        at += len;
    }
    // With at most MAX_FILES records of at most 255 bytes: a few sectors.
    let sectors = at.div_ceil(SECTOR).max(1) as u32;
    (offsets, sectors)
}

fn layout(entries: &[Entry<'_>], root_sectors: u32) -> Result<Layout, IsoError> {
    let ce_sector = ROOT_SECTOR + root_sectors;
    let mut next = u64::from(ce_sector) + 1;
    let mut file_sectors = Vec::with_capacity(entries.len());
    for entry in entries {
        // An empty file points at the next file's sector and takes none,
        // as genisoimage writes it.
        file_sectors.push(u32::try_from(next).map_err(|_| IsoError::VolumeTooLarge)?);
        next += u64::from(entry.size).div_ceil(SECTOR as u64);
    }
    let total_sectors = u32::try_from(next).map_err(|_| IsoError::VolumeTooLarge)?;
    Ok(Layout {
        root_sectors,
        ce_sector,
        file_sectors,
        total_sectors,
    })
}

/// A 16-bit number in both byte orders (ECMA-119 §7.2.3).
fn both16(v: u16) -> [u8; 4] {
    let [l0, l1] = v.to_le_bytes();
    let [b0, b1] = v.to_be_bytes();
    [l0, l1, b0, b1]
}

/// A 32-bit number in both byte orders (ECMA-119 §7.3.3).
fn both32(v: u32) -> [u8; 8] {
    let mut out = [0; 8];
    out[..4].copy_from_slice(&v.to_le_bytes());
    out[4..].copy_from_slice(&v.to_be_bytes());
    out
}

/// A SUSP entry: signature, length, version 1, then its data (IEEE P1281
/// §4.1). Every entry written here is shorter than 256 bytes.
fn susp(signature: &[u8; 2], data: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(4 + data.len());
    entry.extend_from_slice(signature);
    entry.push((4 + data.len()) as u8);
    entry.push(1);
    entry.extend_from_slice(data);
    entry
}

/// The Rock Ridge `PX` entry (RRIP 1.10: mode, links, owner, group).
fn px(mode: u32, links: u32) -> Vec<u8> {
    let mut data = Vec::with_capacity(32);
    data.extend_from_slice(&both32(mode));
    data.extend_from_slice(&both32(links));
    data.extend_from_slice(&both32(0));
    data.extend_from_slice(&both32(0));
    susp(b"PX", &data)
}

/// The `ER` entry that names the RRIP_1991A extension, alone in the
/// continuation area (it does not fit into the root's `.` record).
fn extensions_reference() -> Vec<u8> {
    let mut data = vec![
        RRIP_ID.len() as u8,
        RRIP_DESCRIPTION.len() as u8,
        RRIP_SOURCE.len() as u8,
        1,
    ];
    data.extend_from_slice(RRIP_ID);
    data.extend_from_slice(RRIP_DESCRIPTION);
    data.extend_from_slice(RRIP_SOURCE);
    susp(b"ER", &data)
}

/// A directory record (ECMA-119 §9.1) with its System Use field.
fn directory_record(extent: u32, size: u32, dir: bool, id: &[u8], system_use: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(34 + id.len() + system_use.len());
    r.push(0); // the record's length, set below
    r.push(0); // no extended attribute record
    r.extend_from_slice(&both32(extent));
    r.extend_from_slice(&both32(size));
    r.extend_from_slice(&RECORD_DATE);
    r.push(if dir { 0x02 } else { 0x00 });
    r.push(0); // not interleaved
    r.push(0);
    r.extend_from_slice(&both16(1)); // volume sequence number
    r.push(id.len() as u8);
    r.extend_from_slice(id);
    if id.len().is_multiple_of(2) {
        r.push(0); // the System Use field starts at an even offset
    }
    r.extend_from_slice(system_use);
    if r.len() % 2 == 1 {
        r.push(0);
    }
    // 33 + 14 (8.3 name) + 1 + 5 (RR) + 5 + MAX_NAME (NM) + 36 (PX) < 256.
    r[0] = r.len() as u8;
    r
}

/// The root directory's records: `.`, `..`, then the files.
fn records(entries: &[Entry<'_>], layout: &Layout) -> Vec<Vec<u8>> {
    let root_size = layout.root_size();
    let er_len = extensions_reference().len() as u32;

    // `.` of the root: SUSP's `SP` must come first, then this record's Rock
    // Ridge entries, then `CE` pointing at the `ER` entry.
    let mut dot = susp(b"SP", &[0xbe, 0xef, 0]);
    dot.extend(susp(b"RR", &[RR_PX]));
    dot.extend(px(DIR_MODE, 2));
    let mut ce = Vec::with_capacity(24);
    ce.extend_from_slice(&both32(layout.ce_sector));
    ce.extend_from_slice(&both32(0));
    ce.extend_from_slice(&both32(er_len));
    dot.extend(susp(b"CE", &ce));

    let mut dotdot = susp(b"RR", &[RR_PX]);
    dotdot.extend(px(DIR_MODE, 2));

    let mut out = vec![
        directory_record(ROOT_SECTOR, root_size, true, &[0], &dot),
        directory_record(ROOT_SECTOR, root_size, true, &[1], &dotdot),
    ];
    for (entry, first) in entries.iter().zip(&layout.file_sectors) {
        let mut su = susp(b"RR", &[RR_PX | RR_NM]);
        let mut nm = vec![0];
        nm.extend_from_slice(entry.name.as_bytes());
        su.extend(susp(b"NM", &nm));
        su.extend(px(FILE_MODE, 1));
        out.push(directory_record(
            *first,
            entry.size,
            false,
            &entry.identifier,
            &su,
        ));
    }
    out
}

/// The path table of a volume with only the root (ECMA-119 §9.4): one
/// record, little-endian for the L table, big-endian for the M table.
fn path_table(big_endian: bool) -> Vec<u8> {
    let (extent, parent) = if big_endian {
        (ROOT_SECTOR.to_be_bytes(), 1u16.to_be_bytes())
    } else {
        (ROOT_SECTOR.to_le_bytes(), 1u16.to_le_bytes())
    };
    let mut t = vec![1, 0]; // identifier length 1, no extended attributes
    t.extend_from_slice(&extent);
    t.extend_from_slice(&parent);
    t.extend_from_slice(&[0, 0]); // the root's identifier, then padding
    t
}

/// `text` padded with spaces to `len` bytes.
fn padded(text: &[u8], len: usize) -> Vec<u8> {
    let mut out = text.to_vec();
    out.resize(len, b' ');
    out
}

/// The Primary Volume Descriptor (ECMA-119 §8.4).
fn primary_volume_descriptor(label: &str, layout: &Layout) -> Vec<u8> {
    let mut d = vec![0u8; SECTOR];
    let mut at = |offset: usize, bytes: &[u8]| put(&mut d, offset, bytes);
    at(0, &[1]);
    at(1, b"CD001");
    at(6, &[1]);
    at(8, &padded(b"", 32)); // system identifier
    at(40, &padded(label.as_bytes(), 32));
    at(80, &both32(layout.total_sectors));
    at(120, &both16(1)); // volume set size
    at(124, &both16(1)); // volume sequence number
    at(128, &both16(SECTOR as u16));
    at(132, &both32(path_table(false).len() as u32));
    at(140, &L_PATH_SECTOR.to_le_bytes());
    at(148, &M_PATH_SECTOR.to_be_bytes());
    at(
        156,
        &directory_record(ROOT_SECTOR, layout.root_size(), true, &[0], &[]),
    );
    at(190, &padded(b"", 128)); // volume set
    at(318, &padded(b"", 128)); // publisher
    at(446, &padded(b"", 128)); // data preparer
    at(574, &padded(b"STACKYARD CLOUD-INIT SEED", 128)); // application
    at(702, &padded(b"", 37)); // copyright file
    at(739, &padded(b"", 37)); // abstract file
    at(776, &padded(b"", 37)); // bibliographic file
    at(813, VOLUME_DATE); // creation
    at(830, VOLUME_DATE); // modification
    at(847, NO_DATE); // expiration
    at(864, NO_DATE); // effective
    at(881, &[1]); // file structure version
    d
}

fn volume_descriptor_set_terminator() -> Vec<u8> {
    let mut d = vec![0u8; SECTOR];
    put(&mut d, 0, &[255]);
    put(&mut d, 1, b"CD001");
    put(&mut d, 6, &[1]);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files of a seed, as `SeedSpec::files` gives them.
    fn seed_files() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            (
                "meta-data",
                b"instance-id: \"sy-1\"\nlocal-hostname: \"web1\"\n".to_vec(),
            ),
            ("user-data", b"#cloud-config\nhostname: \"web1\"\n".to_vec()),
            ("network-config", b"version: 2\n".to_vec()),
        ]
    }

    fn build(label: &str, files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, IsoError> {
        let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
        iso9660(label, &borrowed)
    }

    fn le32(b: &[u8]) -> u32 {
        u32::from_le_bytes(b[..4].try_into().unwrap())
    }

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes(b[..4].try_into().unwrap())
    }

    /// A both-endian 32-bit field, checked to say the same in both halves.
    fn both_u32(b: &[u8]) -> u32 {
        assert_eq!(
            le32(&b[..4]),
            be32(&b[4..8]),
            "both-endian field disagrees: {:?}",
            &b[..8]
        );
        le32(b)
    }

    /// A both-endian 16-bit field, checked likewise.
    fn both_u16(b: &[u8]) -> u16 {
        let le = u16::from_le_bytes([b[0], b[1]]);
        let be = u16::from_be_bytes([b[2], b[3]]);
        assert_eq!(le, be, "both-endian field disagrees: {:?}", &b[..4]);
        le
    }

    /// A SUSP entry as read back: signature and data.
    #[derive(Debug, Clone)]
    struct Susp {
        sig: [u8; 2],
        data: Vec<u8>,
    }

    /// Reads the SUSP entries of a System Use field, following `CE`.
    fn susp_entries<'a>(image: &'a [u8], mut area: &'a [u8]) -> Vec<Susp> {
        let mut out = Vec::new();
        let mut continuation: Option<&'a [u8]> = None;
        loop {
            while area.len() >= 4 {
                let len = area[2] as usize;
                assert!(
                    len >= 4 && len <= area.len(),
                    "SUSP entry length {len} in {area:?}"
                );
                assert_eq!(area[3], 1, "SUSP entry version");
                let entry = Susp {
                    sig: [area[0], area[1]],
                    data: area[4..len].to_vec(),
                };
                if &entry.sig == b"CE" {
                    let lba = both_u32(&entry.data[0..8]) as usize;
                    let offset = both_u32(&entry.data[8..16]) as usize;
                    let size = both_u32(&entry.data[16..24]) as usize;
                    assert!(offset + size <= SECTOR);
                    let start = lba * SECTOR + offset;
                    continuation = Some(&image[start..start + size]);
                }
                out.push(entry);
                area = &area[len..];
            }
            match continuation.take() {
                Some(next) => area = next,
                None => return out,
            }
        }
    }

    /// One directory record as read back.
    #[derive(Debug)]
    struct Record {
        extent: u32,
        size: u32,
        flags: u8,
        identifier: Vec<u8>,
        susp: Vec<Susp>,
    }

    impl Record {
        fn entry(&self, sig: &[u8; 2]) -> Option<&Susp> {
            self.susp.iter().find(|e| &e.sig == sig)
        }

        fn rock_ridge_name(&self) -> String {
            let nm = self.entry(b"NM").expect("an NM entry");
            assert_eq!(nm.data[0], 0, "NM flags");
            String::from_utf8(nm.data[1..].to_vec()).unwrap()
        }

        fn mode(&self) -> u32 {
            let px = self.entry(b"PX").expect("a PX entry");
            assert_eq!(
                px.data.len(),
                32,
                "RRIP 1.10 PX has four both-endian numbers"
            );
            both_u32(&px.data[0..8])
        }

        fn data<'a>(&self, image: &'a [u8]) -> &'a [u8] {
            let start = self.extent as usize * SECTOR;
            &image[start..start + self.size as usize]
        }
    }

    /// Reads the records of a directory extent the way ECMA-119 lays them
    /// out: a zero length byte means the rest of the sector is padding.
    fn read_directory(image: &[u8], extent: u32, size: u32) -> Vec<Record> {
        let start = extent as usize * SECTOR;
        let dir = &image[start..start + size as usize];
        let mut out = Vec::new();
        let mut at = 0;
        while at < dir.len() {
            let len = dir[at] as usize;
            if len == 0 {
                at = (at / SECTOR + 1) * SECTOR;
                continue;
            }
            assert_eq!(
                at / SECTOR,
                (at + len - 1) / SECTOR,
                "a record crosses a sector boundary"
            );
            assert_eq!(len % 2, 0, "records have an even length");
            let r = &dir[at..at + len];
            let id_len = r[32] as usize;
            let identifier = r[33..33 + id_len].to_vec();
            let su_start = 33 + id_len + (1 - id_len % 2);
            assert_eq!(both_u16(&r[28..32]), 1, "volume sequence number");
            out.push(Record {
                extent: both_u32(&r[2..10]),
                size: both_u32(&r[10..18]),
                flags: r[25],
                identifier,
                susp: susp_entries(image, &r[su_start.min(len)..]),
            });
            at += len;
        }
        out
    }

    /// The root directory record of the Primary Volume Descriptor.
    fn root_of(image: &[u8]) -> (u32, u32) {
        let pvd = &image[16 * SECTOR..17 * SECTOR];
        let root = &pvd[156..190];
        assert_eq!(root[0], 34, "the PVD's root record is 34 bytes");
        (both_u32(&root[2..10]), both_u32(&root[10..18]))
    }

    #[test]
    fn the_descriptors_say_what_the_bytes_are() {
        let image = build("cidata", &seed_files()).unwrap();
        assert_eq!(image.len() % SECTOR, 0);
        assert!(
            image[..16 * SECTOR].iter().all(|b| *b == 0),
            "system area is zeros"
        );

        let pvd = &image[16 * SECTOR..17 * SECTOR];
        assert_eq!(pvd[0], 1, "type: primary");
        assert_eq!(&pvd[1..6], b"CD001");
        assert_eq!(pvd[6], 1, "version");
        assert_eq!(&pvd[40..72], format!("{:<32}", "cidata").as_bytes());
        assert_eq!(
            both_u32(&pvd[80..88]) as usize,
            image.len() / SECTOR,
            "volume space size"
        );
        assert_eq!(both_u16(&pvd[120..124]), 1, "volume set size");
        assert_eq!(both_u16(&pvd[124..128]), 1, "volume sequence number");
        assert_eq!(
            both_u16(&pvd[128..132]) as usize,
            SECTOR,
            "logical block size"
        );
        assert_eq!(&pvd[813..830], VOLUME_DATE);
        assert_eq!(pvd[881], 1, "file structure version");

        let term = &image[17 * SECTOR..18 * SECTOR];
        assert_eq!(term[0], 255, "type: set terminator");
        assert_eq!(&term[1..7], b"CD001\x01");

        // Both path tables have the root as their only record, pointing at
        // the extent the PVD's root record names.
        let (root_extent, root_size) = root_of(&image);
        let table_size = both_u32(&pvd[132..140]) as usize;
        assert_eq!(table_size, 10);
        let l_at = le32(&pvd[140..144]) as usize * SECTOR;
        let m_at = be32(&pvd[148..152]) as usize * SECTOR;
        let l = &image[l_at..l_at + table_size];
        let m = &image[m_at..m_at + table_size];
        assert_eq!((l[0], m[0]), (1, 1), "identifier length");
        assert_eq!(le32(&l[2..6]), root_extent);
        assert_eq!(be32(&m[2..6]), root_extent);
        assert_eq!(
            u16::from_le_bytes([l[6], l[7]]),
            1,
            "parent of the root is itself"
        );
        assert_eq!(u16::from_be_bytes([m[6], m[7]]), 1);
        assert_eq!((l[8], m[8]), (0, 0), "the root's identifier");

        // The root's `.` and `..` name the root itself, as the PVD does.
        let records = read_directory(&image, root_extent, root_size);
        assert_eq!(records[0].identifier, [0]);
        assert_eq!(records[1].identifier, [1]);
        for r in &records[..2] {
            assert_eq!((r.extent, r.size, r.flags), (root_extent, root_size, 2));
        }
        // Every file lies inside the volume, after the directory.
        for r in &records[2..] {
            assert_eq!(r.flags, 0);
            assert!(r.extent > root_extent);
            assert!((r.extent as usize * SECTOR + r.size as usize) <= image.len());
        }
    }

    #[test]
    fn rock_ridge_gives_the_real_names_modes_and_contents() {
        let files = seed_files();
        let image = build("cidata", &files).unwrap();
        let (extent, size) = root_of(&image);
        let records = read_directory(&image, extent, size);

        // SUSP: `SP` first in the root's `.` record, skipping nothing, and
        // the `ER` entry naming RRIP_1991A (in the continuation area).
        let dot = &records[0];
        assert_eq!(&dot.susp[0].sig, b"SP");
        assert_eq!(dot.susp[0].data, [0xbe, 0xef, 0]);
        let er = dot.entry(b"ER").expect("an ER entry");
        let (id_len, des_len, src_len) = (
            er.data[0] as usize,
            er.data[1] as usize,
            er.data[2] as usize,
        );
        assert_eq!(er.data[3], 1, "extension version");
        assert_eq!(&er.data[4..4 + id_len], b"RRIP_1991A");
        assert_eq!(er.data.len(), 4 + id_len + des_len + src_len);
        assert_eq!(dot.mode(), 0o040_555);
        assert_eq!(records[1].mode(), 0o040_555);

        let mut seen: Vec<(String, Vec<u8>, String)> = records[2..]
            .iter()
            .map(|r| {
                assert_eq!(r.mode(), 0o100_444, "read-only file");
                let rr = r.entry(b"RR").expect("an RR entry");
                assert_eq!(rr.data, [RR_PX | RR_NM]);
                (
                    r.rock_ridge_name(),
                    r.data(&image).to_vec(),
                    String::from_utf8(r.identifier.clone()).unwrap(),
                )
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                ("meta-data".into(), files[0].1.clone(), "META_DAT.;1".into()),
                (
                    "network-config".into(),
                    files[2].1.clone(),
                    "NETWORK_.;1".into()
                ),
                ("user-data".into(), files[1].1.clone(), "USER_DAT.;1".into()),
            ]
        );
    }

    #[test]
    fn the_same_files_give_the_same_bytes() {
        let a = build("cidata", &seed_files()).unwrap();
        let b = build("cidata", &seed_files()).unwrap();
        assert_eq!(a, b);
        let mut changed = seed_files();
        changed[1].1.push(b'\n');
        assert_ne!(a, build("cidata", &changed).unwrap());
        // The order files are given in does not matter: the directory is sorted.
        let mut reversed = seed_files();
        reversed.reverse();
        assert_eq!(a, build("cidata", &reversed).unwrap());
    }

    #[test]
    fn many_long_names_span_sectors_and_all_read_back() {
        let files: Vec<(String, Vec<u8>)> = (0..MAX_FILES)
            .map(|i| {
                (
                    format!("{i:02}-{}", "n".repeat(MAX_NAME - 3)),
                    vec![i as u8; i * 100],
                )
            })
            .collect();
        let borrowed: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let image = iso9660("MANY", &borrowed).unwrap();
        let (extent, size) = root_of(&image);
        assert!(
            size as usize > SECTOR,
            "the directory needs more than one sector"
        );
        let records = read_directory(&image, extent, size);
        assert_eq!(records.len(), MAX_FILES + 2);
        let mut identifiers = HashSet::new();
        let mut keys = Vec::new();
        for r in &records[2..] {
            let name = r.rock_ridge_name();
            let (_, data) = files
                .iter()
                .find(|(n, _)| *n == name)
                .expect("a given name");
            assert_eq!(r.data(&image), data.as_slice(), "{name}");
            assert!(
                identifiers.insert(r.identifier.clone()),
                "8.3 names are unique"
            );
            keys.push(sort_key(&r.identifier));
        }
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "records are sorted by 8.3 name"
        );
        assert_eq!(
            both_u32(&image[16 * SECTOR + 80..]) as usize,
            image.len() / SECTOR
        );
    }

    #[test]
    fn names_that_shorten_alike_get_numbered_8_3_names() {
        let files = vec![
            ("user-data", b"a".to_vec()),
            ("user-data2", b"b".to_vec()),
            ("user-dat1", b"c".to_vec()),
            ("x.tar.gz", b"d".to_vec()),
            ("empty", Vec::new()),
        ];
        let image = build("cidata", &files).unwrap();
        let (extent, size) = root_of(&image);
        let read: Vec<(String, String, Vec<u8>)> = read_directory(&image, extent, size)[2..]
            .iter()
            .map(|r| {
                (
                    String::from_utf8(r.identifier.clone()).unwrap(),
                    r.rock_ridge_name(),
                    r.data(&image).to_vec(),
                )
            })
            .collect();
        assert_eq!(
            read,
            vec![
                ("EMPTY.;1".into(), "empty".into(), vec![]),
                ("USER_DA1.;1".into(), "user-data2".into(), b"b".to_vec()),
                ("USER_DA2.;1".into(), "user-dat1".into(), b"c".to_vec()),
                ("USER_DAT.;1".into(), "user-data".into(), b"a".to_vec()),
                ("X_TAR.GZ;1".into(), "x.tar.gz".into(), b"d".to_vec()),
            ]
        );
    }

    #[test]
    fn what_cannot_be_written_is_refused() {
        let one = |label: &str, name: &str| build(label, &[(name, b"x".to_vec())]);
        for label in ["", "ci-data", "cídata", "ci data", &"L".repeat(33)] {
            assert_eq!(
                one(label, "meta-data"),
                Err(IsoError::Label(label.into())),
                "{label:?}"
            );
        }
        assert!(one(&"L".repeat(32), "meta-data").is_ok());
        for name in [
            "",
            ".hidden",
            "a/b",
            "a b",
            "meta-data\n",
            "é",
            &"n".repeat(65),
        ] {
            assert_eq!(
                one("cidata", name),
                Err(IsoError::FileName(name.into())),
                "{name:?}"
            );
        }
        assert!(one("cidata", &"n".repeat(64)).is_ok());
        assert_eq!(
            build("cidata", &[("a", vec![]), ("a", vec![1])]),
            Err(IsoError::DuplicateName("a".into()))
        );
        let too_many: Vec<(String, Vec<u8>)> =
            (0..=MAX_FILES).map(|i| (format!("f{i}"), vec![])).collect();
        let borrowed: Vec<(&str, &[u8])> = too_many
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        assert_eq!(
            iso9660("cidata", &borrowed),
            Err(IsoError::TooManyFiles(MAX_FILES + 1))
        );
        // Messages say what would do.
        assert!(IsoError::Label("ci-data".into())
            .to_string()
            .contains("letters, digits and '_'"));
    }

    #[test]
    fn a_volume_without_files_is_still_a_volume() {
        let image = iso9660("EMPTY", &[]).unwrap();
        let (extent, size) = root_of(&image);
        assert_eq!(read_directory(&image, extent, size).len(), 2);
        assert_eq!(
            both_u32(&image[16 * SECTOR + 80..]) as usize,
            image.len() / SECTOR
        );
    }
}
