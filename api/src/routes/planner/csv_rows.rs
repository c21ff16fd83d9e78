//! Reading a keyword CSV upload into rows to import and a reason for each row that cannot
//! be: header row required (`keyword`, optional `volume`, `difficulty`, `intent`, `status`, in
//! any order, other columns ignored), UTF-8 BOM and CRLF accepted, every line number real.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::ApiError;
use shared::planner::{Intent, KeywordStatus, keywords::MAX_KEYWORD_LEN};

/// Most data rows one import may carry.
pub const MAX_IMPORT_ROWS: usize = 20_000;

/// A row that was not imported, by its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = CsvRowError)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: u64,
    pub keyword: String,
    pub volume: i32,
    pub difficulty: i16,
    pub intent: Intent,
    pub status: KeywordStatus,
}

#[derive(Debug, Default)]
pub struct ParsedCsv {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}

/// The header's known columns, by position.
#[derive(Debug, Default)]
struct Columns {
    keyword: usize,
    volume: Option<usize>,
    difficulty: Option<usize>,
    intent: Option<usize>,
    status: Option<usize>,
}

/// Parses an upload: a 400 for a file that cannot be imported at all (no header, no
/// `keyword` column, too many rows); otherwise the good rows and a reason for each bad one.
pub fn parse_csv(file: &[u8]) -> Result<ParsedCsv, ApiError> {
    let file = file.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(file);
    check_text(file)?;
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|error| ApiError::field("file", format!("The header row could not be read: {error}.")))?
        .clone();
    let columns = columns(&header)?;
    let mut parsed = ParsedCsv::default();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut lines = LineCounter { file, offset: 0, line: 1 };
    let mut count = 0usize;
    for record in reader.byte_records() {
        let record = record
            .map_err(|error| ApiError::field("file", format!("The CSV could not be read: {error}.")))?;
        let line = lines.at(record.position().map_or(0, ::csv::Position::byte));
        count += 1;
        if count > MAX_IMPORT_ROWS {
            return Err(ApiError::field("file", format!("Import at most {MAX_IMPORT_ROWS} rows at once.")));
        }
        match parse_row(&columns, &record, line) {
            Ok(row) => match first_line.get(&row.keyword.to_lowercase()) {
                Some(first) => {
                    parsed.errors.push(RowError { line, reason: format!("duplicate of line {first}") })
                }
                None => {
                    first_line.insert(row.keyword.to_lowercase(), line);
                    parsed.rows.push(row);
                }
            },
            Err(reasons) => parsed.errors.push(RowError { line, reason: reasons.join("; ") }),
        }
    }
    Ok(parsed)
}

/// Refuses what the csv reader would take quietly: NUL bytes (PostgreSQL text cannot hold
/// them, and a UTF-16 export is full of them) and a quote that is never closed (the reader
/// would run the rest of the file into one cell).
fn check_text(file: &[u8]) -> Result<(), ApiError> {
    let line_of = |index: usize| line_at(file, index);
    if let Some(index) = file.iter().position(|byte| *byte == 0) {
        return Err(ApiError::field(
            "file",
            format!("Line {} contains a NUL byte; send the CSV as UTF-8 text (not UTF-16).", line_of(index)),
        ));
    }
    if let Some(index) = unclosed_quote(file) {
        return Err(ApiError::field(
            "file",
            format!("The quote opened on line {} is never closed.", line_of(index)),
        ));
    }
    Ok(())
}

/// Where the quoted field that is still open at the end of the file starts, reading as the
/// csv crate does: a quote opens a field only at its start, `""` inside is a quote.
fn unclosed_quote(file: &[u8]) -> Option<usize> {
    let mut opened: Option<usize> = None;
    let mut at_field_start = true;
    let mut index = 0;
    while index < file.len() {
        let byte = file[index];
        match opened {
            Some(_) if byte == b'"' && file.get(index + 1) == Some(&b'"') => index += 1,
            Some(_) if byte == b'"' => opened = None,
            Some(_) => {}
            None if byte == b'"' && at_field_start => opened = Some(index),
            None => {}
        }
        at_field_start = opened.is_none() && matches!(byte, b',' | b'\n' | b'\r');
        index += 1;
    }
    opened
}

/// The line (from 1) of byte `index`: `\r\n`, `\n` and a lone `\r` each end a line.
fn line_at(file: &[u8], index: usize) -> u64 {
    let mut counter = LineCounter { file, offset: 0, line: 1 };
    counter.count_to(index.min(file.len()))
}

/// Line numbers of record starts. The csv crate's own line count is one short after CRLF
/// endings (it ends a record at `\r` and counts the `\n` later), so count here: `\r\n`, `\n`
/// and a lone `\r` each end a line. Records come in order, so each byte is looked at once.
struct LineCounter<'a> {
    file: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(self.file.len());
        // A record never starts with a line break: what is there is the tail of the last one.
        while start < self.file.len() && matches!(self.file[start], b'\r' | b'\n') {
            start += 1;
        }
        self.count_to(start)
    }

    /// Counts the line ends before byte `end` that have not been counted yet.
    fn count_to(&mut self, end: usize) -> u64 {
        for index in self.offset..end {
            let ends_line = match self.file[index] {
                b'\n' => true,
                b'\r' => self.file.get(index + 1) != Some(&b'\n'),
                _ => false,
            };
            if ends_line {
                self.line += 1;
            }
        }
        self.offset = self.offset.max(end);
        self.line
    }
}

fn columns(header: &::csv::ByteRecord) -> Result<Columns, ApiError> {
    let mut found: HashMap<String, usize> = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if found.insert(name.clone(), index).is_some() {
            return Err(ApiError::field("file", format!("The header names the column `{name}` twice.")));
        }
    }
    let keyword = found.get("keyword").copied().ok_or_else(|| {
        ApiError::field("file", "The first line must be a header row with a `keyword` column.")
    })?;
    Ok(Columns {
        keyword,
        volume: found.get("volume").copied(),
        difficulty: found.get("difficulty").copied(),
        intent: found.get("intent").copied(),
        status: found.get("status").copied(),
    })
}

/// One data row, or every reason it cannot be imported.
fn parse_row(columns: &Columns, record: &::csv::ByteRecord, line: u64) -> Result<ImportRow, Vec<String>> {
    let mut reasons = Vec::new();
    let cell = |index: Option<usize>| -> Result<&str, ()> {
        let bytes = index.and_then(|index| record.get(index)).unwrap_or_default();
        std::str::from_utf8(bytes).map(str::trim).map_err(|_| ())
    };
    let Ok(keyword) = cell(Some(columns.keyword)) else {
        return Err(vec!["the row is not valid UTF-8".into()]);
    };
    if keyword.is_empty() {
        reasons.push("keyword is empty".to_owned());
    } else if keyword.chars().count() > MAX_KEYWORD_LEN {
        reasons.push(format!("keyword is longer than {MAX_KEYWORD_LEN} characters"));
    }
    let mut text = |index: Option<usize>, name: &str| match cell(index) {
        Ok(value) => value.to_owned(),
        Err(()) => {
            reasons.push(format!("{name} is not valid UTF-8"));
            String::new()
        }
    };
    let (volume, difficulty) = (text(columns.volume, "volume"), text(columns.difficulty, "difficulty"));
    let (intent, status) = (text(columns.intent, "intent"), text(columns.status, "status"));
    let volume = match volume.as_str() {
        "" => Some(0),
        value => value.parse::<i32>().ok().filter(|volume| *volume >= 0).or_else(|| {
            reasons.push(format!("volume `{value}` is not a whole number of 0 or more"));
            None
        }),
    };
    let difficulty = match difficulty.as_str() {
        "" => Some(0),
        value => {
            value.parse::<i16>().ok().filter(|difficulty| (0..=100).contains(difficulty)).or_else(|| {
                reasons.push(format!("difficulty `{value}` is not a whole number between 0 and 100"));
                None
            })
        }
    };
    let intent = match intent.as_str() {
        "" => Some(Intent::Informational),
        value => Intent::parse(&value.to_ascii_lowercase()).or_else(|| {
            reasons.push(format!(
                "intent `{value}` is not one of informational, commercial, transactional, navigational"
            ));
            None
        }),
    };
    let status = match status.as_str() {
        "" => Some(KeywordStatus::Active),
        value => KeywordStatus::parse(&value.to_ascii_lowercase()).or_else(|| {
            reasons.push(format!("status `{value}` is not one of active, pending, archived"));
            None
        }),
    };
    match (volume, difficulty, intent, status) {
        (Some(volume), Some(difficulty), Some(intent), Some(status)) if reasons.is_empty() => {
            Ok(ImportRow { line, keyword: keyword.to_owned(), volume, difficulty, intent, status })
        }
        _ => Err(reasons),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_good_and_bad_rows_with_their_lines() {
        let file = "\u{feff}Intent,keyword,volume\r\ncommercial,best shoes,100\r\n,,\r\nfoo,x,abc\r\n\
                    ,Best Shoes,1\r\n\"navigational\",\"a, b\",7\r\n";
        let parsed = parse_csv(file.as_bytes()).expect("parses");
        assert_eq!(
            parsed.rows,
            vec![
                ImportRow {
                    line: 2,
                    keyword: "best shoes".into(),
                    volume: 100,
                    difficulty: 0,
                    intent: Intent::Commercial,
                    status: KeywordStatus::Active,
                },
                ImportRow {
                    line: 6,
                    keyword: "a, b".into(),
                    volume: 7,
                    difficulty: 0,
                    intent: Intent::Navigational,
                    status: KeywordStatus::Active,
                },
            ]
        );
        assert_eq!(
            parsed.errors,
            vec![
                RowError { line: 3, reason: "keyword is empty".into() },
                RowError {
                    line: 4,
                    reason: "volume `abc` is not a whole number of 0 or more; intent `foo` is not one of \
                             informational, commercial, transactional, navigational"
                        .into()
                },
                RowError { line: 5, reason: "duplicate of line 2".into() },
            ]
        );
    }

    #[test]
    fn nul_bytes_and_unclosed_quotes_are_refused_with_their_line() {
        let nul = parse_csv(b"keyword\r\nfine\r\nbad\0cell\r\n").expect_err("refused");
        assert!(format!("{nul:?}").contains("Line 3 contains a NUL byte"), "{nul:?}");
        let open = parse_csv(b"keyword,volume\nfine,1\n\"never closed,2\nmore,3\n").expect_err("refused");
        assert!(format!("{open:?}").contains("opened on line 3"), "{open:?}");
        let closed =
            parse_csv(b"keyword\n\"say \"\"hi\"\"\"\nsize 5\"\n").expect("a quote inside a field is text");
        assert_eq!(closed.rows.len(), 2);
    }

    #[test]
    fn a_file_without_a_keyword_column_is_refused() {
        assert!(parse_csv(b"volume,intent\n1,commercial\n").is_err());
        assert!(parse_csv(b"").is_err());
    }
}
