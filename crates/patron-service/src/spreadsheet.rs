//! The spreadsheet files of customer imports and exports: CSV (the `csv` crate) and XLSX
//! (read with `calamine`, written with `rust_xlsxwriter` in its constant-memory mode, so an
//! export of any size holds one row at a time).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Cursor};
use std::path::{Path, PathBuf};

use calamine::{DataRef, Reader, Xlsx};
use patron_domain::error::DomainError;
use rust_xlsxwriter::Workbook;

/// A spreadsheet format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values, UTF-8.
    Csv,
    /// Office Open XML workbook (the first sheet).
    Xlsx,
}

impl FileFormat {
    /// Parses `CSV` / `XLSX` in any case.
    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(FileFormat::Csv),
            "xlsx" => Ok(FileFormat::Xlsx),
            other => Err(DomainError::invalid(
                field,
                format!("unknown file format '{other}'; expected CSV or XLSX"),
            )),
        }
    }

    /// The stored (and file extension) name: `csv`, `xlsx`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    /// The media type of a file in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// Most data rows a file may hold.
pub const MAX_ROWS: usize = 1_000_000;
/// Most columns a file may hold.
pub const MAX_COLUMNS: u32 = 1_000;
/// Most bytes an XLSX workbook may unpack to (a small zip can unpack to gigabytes).
const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;
/// Longest text an XLSX cell holds.
const MAX_XLSX_CELL_CHARS: usize = 32_767;
/// Rows an XLSX sheet holds, its header included.
const MAX_XLSX_ROWS: u32 = 1_048_576;

/// A sheet read whole: its first row, and the rows after it as text cells, with the line
/// (CSV) or row number (XLSX) each came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// The header row.
    pub header: Vec<String>,
    /// The data rows (blank rows left out).
    pub rows: Vec<Vec<String>>,
    /// The 1-based line or row number in the file of each data row.
    pub lines: Vec<u32>,
}

/// Reads a CSV file or the first sheet of an XLSX workbook (at most [`MAX_ROWS`] rows and
/// [`MAX_COLUMNS`] columns); the message says why a file cannot be read.
pub fn read_table(bytes: &[u8], format: FileFormat) -> Result<Table, String> {
    let mut records = match format {
        FileFormat::Csv => read_csv(bytes)?,
        FileFormat::Xlsx => read_xlsx(bytes)?,
    };
    records.retain(|(_, row)| row.iter().any(|cell| !cell.trim().is_empty()));
    if records.is_empty() {
        return Err("the file is empty; its first row must name the columns".to_owned());
    }
    if records.len() > MAX_ROWS + 1 {
        return Err(format!("the file has more than {MAX_ROWS} rows"));
    }
    let (_, header) = records.remove(0);
    let (lines, rows) = records.into_iter().unzip();
    Ok(Table {
        header,
        rows,
        lines,
    })
}

fn read_csv(bytes: &[u8]) -> Result<Vec<(u32, Vec<String>)>, String> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| format!("not a readable CSV file: {error}"))?;
        if record.len() > MAX_COLUMNS as usize {
            return Err(format!("a row has more than {MAX_COLUMNS} columns"));
        }
        let line = record.position().map_or(0, |p| p.line());
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        records.push((line, record.iter().map(unescape).collect()));
        if records.len() > MAX_ROWS + 1 {
            break;
        }
    }
    Ok(records)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<(u32, Vec<String>)>, String> {
    let unreadable =
        |error: &dyn std::fmt::Display| format!("not a readable XLSX workbook: {error}");
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|error| unreadable(&error))?;
    let mut unpacked: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|error| unreadable(&error))?;
        unpacked = unpacked.saturating_add(entry.size());
    }
    if unpacked > MAX_UNPACKED_BYTES {
        return Err(format!(
            "the workbook unpacks to more than {} MiB",
            MAX_UNPACKED_BYTES >> 20
        ));
    }
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|error| unreadable(&error))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or("the workbook has no sheet")?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|error| format!("cannot read the first sheet: {error}"))?;
    // Only the cells present are read (no grid of the sheet's nominal size), row by row.
    let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    while let Some(cell) = cells
        .next_cell()
        .map_err(|error| format!("cannot read the first sheet: {error}"))?
    {
        let (row, column) = cell.get_position();
        if column >= MAX_COLUMNS {
            return Err(format!("a row has more than {MAX_COLUMNS} columns"));
        }
        let text = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        if !rows.contains_key(&row) && rows.len() > MAX_ROWS {
            break;
        }
        let cells = rows.entry(row).or_default();
        let column = column as usize;
        if cells.len() <= column {
            cells.resize(column + 1, String::new());
        }
        cells[column] = text;
    }
    Ok(rows
        .into_iter()
        .map(|(row, cells)| (row.saturating_add(1), cells))
        .collect())
}

/// A cell as text: whole numbers without a fraction (phone numbers typed into a sheet),
/// dates as `YYYY-MM-DD` and times as RFC 3339 (UTC).
fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty | DataRef::Error(_) => String::new(),
        DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => {
            text.clone()
        }
        DataRef::SharedString(text) => (*text).to_owned(),
        DataRef::Float(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            format!("{number:.0}")
        }
        DataRef::Float(number) => number.to_string(),
        DataRef::Int(number) => number.to_string(),
        DataRef::Bool(value) => value.to_string(),
        DataRef::DateTime(at) => match at.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.format("%Y-%m-%d").to_string(),
            Some(at) => at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            None => at.as_f64().to_string(),
        },
    }
}

/// A cell safe to open in a spreadsheet program: text that would start a formula (`=`, `+`,
/// `-`, `@`, tab, carriage return) gets a leading `'`, which [`unescape`] takes off again.
pub fn escape(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A cell as [`escape`] wrote it, back as it was.
fn unescape(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

/// Writes a spreadsheet row by row to a file.
pub enum TableWriter {
    /// A CSV file being written.
    Csv(Box<csv::Writer<BufWriter<File>>>),
    /// An XLSX workbook whose sheet spills finished rows to a temporary file.
    Xlsx {
        /// The workbook.
        workbook: Box<Workbook>,
        /// The next row.
        row: u32,
        /// Where it is saved at the end.
        path: PathBuf,
    },
}

impl TableWriter {
    /// Starts a file of `format` at `path`; temporary XLSX data goes to the same directory.
    pub fn create(path: &Path, format: FileFormat) -> Result<Self, String> {
        match format {
            FileFormat::Csv => {
                let file = File::create(path)
                    .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
                Ok(TableWriter::Csv(Box::new(csv::Writer::from_writer(
                    BufWriter::new(file),
                ))))
            }
            FileFormat::Xlsx => {
                let mut workbook = Workbook::new();
                if let Some(dir) = path.parent() {
                    workbook
                        .set_tempdir(dir)
                        .map_err(|error| format!("cannot use {}: {error}", dir.display()))?;
                }
                workbook.add_worksheet_with_constant_memory();
                Ok(TableWriter::Xlsx {
                    workbook: Box::new(workbook),
                    row: 0,
                    path: path.to_owned(),
                })
            }
        }
    }

    /// Appends a row.
    pub fn write_row(&mut self, cells: &[String]) -> Result<(), String> {
        match self {
            TableWriter::Csv(writer) => writer
                .write_record(cells.iter().map(|cell| escape(cell).into_owned()))
                .map_err(|error| format!("cannot write a row: {error}")),
            TableWriter::Xlsx { workbook, row, .. } => {
                if *row >= MAX_XLSX_ROWS {
                    return Err(format!(
                        "an XLSX sheet holds at most {MAX_XLSX_ROWS} rows; export as CSV"
                    ));
                }
                if cells
                    .iter()
                    .any(|cell| cell.chars().count() > MAX_XLSX_CELL_CHARS)
                {
                    return Err(format!(
                        "a value is longer than an XLSX cell holds ({MAX_XLSX_CELL_CHARS} \
                         characters); export as CSV"
                    ));
                }
                let sheet = workbook
                    .worksheet_from_index(0)
                    .map_err(|error| format!("cannot write a row: {error}"))?;
                for (column, cell) in cells.iter().enumerate() {
                    let column = u16::try_from(column).map_err(|_| "too many columns")?;
                    if !cell.is_empty() {
                        sheet
                            .write_string(*row, column, cell)
                            .map_err(|error| format!("cannot write a row: {error}"))?;
                    }
                }
                *row += 1;
                Ok(())
            }
        }
    }

    /// Completes the file.
    pub fn finish(self) -> Result<(), String> {
        match self {
            TableWriter::Csv(mut writer) => writer
                .flush()
                .map_err(|error| format!("cannot write the file: {error}")),
            TableWriter::Xlsx {
                mut workbook, path, ..
            } => workbook
                .save(&path)
                .map_err(|error| format!("cannot write the file: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec!["email".into(), "phone_number".into()],
            vec!["a@example.com".into(), "9876543210".into()],
            vec![String::new(), String::new()],
            vec!["b@example.com, \"quoted\"".into(), "=HYPERLINK(1)".into()],
        ]
    }

    #[test]
    fn what_is_written_reads_back_in_both_formats() {
        let dir = std::env::temp_dir().join(format!("patron-sheet-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        for format in [FileFormat::Csv, FileFormat::Xlsx] {
            let path = dir.join(format!("t.{}", format.as_str()));
            let mut writer = TableWriter::create(&path, format).unwrap();
            for row in rows() {
                writer.write_row(&row).unwrap();
            }
            writer.finish().unwrap();
            let table = read_table(&std::fs::read(&path).unwrap(), format).unwrap();
            assert_eq!(table.header, rows()[0], "{format:?}");
            assert_eq!(table.rows.len(), 2, "blank rows are left out ({format:?})");
            assert_eq!(table.rows[1][0], rows()[3][0], "{format:?}");
            assert_eq!(table.rows[1][1], "=HYPERLINK(1)", "{format:?}: round trip");
            assert_eq!(
                table.lines,
                vec![2, 4],
                "{format:?}: the file's own numbering"
            );
            if format == FileFormat::Csv {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    text.contains("'=HYPERLINK(1)"),
                    "no formula in a CSV: {text}"
                );
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn xlsx_limits_are_errors_not_truncations() {
        let dir = std::env::temp_dir().join(format!("patron-long-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut writer = TableWriter::create(&dir.join("long.xlsx"), FileFormat::Xlsx).unwrap();
        let refused = writer.write_row(&["x".repeat(40_000)]).unwrap_err();
        assert!(refused.contains("export as CSV"), "{refused}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unreadable_files_say_why() {
        assert!(read_table(b"", FileFormat::Csv)
            .unwrap_err()
            .contains("empty"));
        assert!(read_table(b"not a zip", FileFormat::Xlsx)
            .unwrap_err()
            .contains("XLSX"));
        assert!(FileFormat::parse("file_format", "pdf").is_err());
        assert_eq!(FileFormat::parse("f", " XLSX ").unwrap(), FileFormat::Xlsx);
    }

    #[test]
    fn cells_read_as_the_text_they_show() {
        assert_eq!(cell_text(&DataRef::Float(9_876_543_210.0)), "9876543210");
        assert_eq!(cell_text(&DataRef::Float(2.5)), "2.5");
        assert_eq!(cell_text(&DataRef::Empty), "");
        let date =
            calamine::ExcelDateTime::new(46_053.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&DataRef::DateTime(date)), "2026-01-31");
        assert_eq!(unescape("'+91"), "+91");
        assert_eq!(unescape("'plain"), "'plain");
        assert_eq!(escape("-5"), "'-5");
        assert_eq!(escape("asha"), "asha");
    }

    #[test]
    fn sheets_with_far_cells_are_read_without_a_grid() {
        let dir = std::env::temp_dir().join(format!("patron-far-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("far.xlsx");
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "email").unwrap();
        sheet.write_string(1, 0, "a@example.com").unwrap();
        sheet.write_string(1_048_575, 999, "far away").unwrap();
        workbook.save(&path).unwrap();
        let table = read_table(&std::fs::read(&path).unwrap(), FileFormat::Xlsx).unwrap();
        assert_eq!(table.lines, vec![2, 1_048_576]);
        assert_eq!(table.rows[1][999], "far away");
        sheet_wider_than_allowed(&dir);
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn sheet_wider_than_allowed(dir: &Path) {
        let path = dir.join("wide.xlsx");
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "email").unwrap();
        sheet.write_string(0, 5_000, "x").unwrap();
        workbook.save(&path).unwrap();
        let refused = read_table(&std::fs::read(&path).unwrap(), FileFormat::Xlsx).unwrap_err();
        assert!(refused.contains("columns"), "{refused}");
    }
}
