//! The spreadsheet files of customer imports and exports: CSV (the `csv` crate) and XLSX
//! (read with `calamine`, written with `rust_xlsxwriter` in its constant-memory mode, so an
//! export of any size holds one row at a time).

use std::fs::File;
use std::io::{BufWriter, Cursor};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx};
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

/// A sheet read whole: its first row, and the rows after it as text cells.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// The header row.
    pub header: Vec<String>,
    /// The data rows (blank rows left out).
    pub rows: Vec<Vec<String>>,
}

/// Reads a CSV file or the first sheet of an XLSX workbook; the message says why a file
/// cannot be read.
pub fn read_table(bytes: &[u8], format: FileFormat) -> Result<Table, String> {
    let mut records: Vec<Vec<String>> = match format {
        FileFormat::Csv => {
            let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text);
            reader
                .records()
                .map(|record| {
                    record
                        .map(|r| r.iter().map(str::to_owned).collect())
                        .map_err(|error| format!("not a readable CSV file: {error}"))
                })
                .collect::<Result<_, _>>()?
        }
        FileFormat::Xlsx => {
            let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|error| format!("not a readable XLSX workbook: {error}"))?;
            let range = workbook
                .worksheet_range_at(0)
                .ok_or("the workbook has no sheet")?
                .map_err(|error| format!("cannot read the first sheet: {error}"))?;
            range
                .rows()
                .map(|row| row.iter().map(cell_text).collect())
                .collect()
        }
    };
    records.retain(|row: &Vec<String>| row.iter().any(|cell| !cell.trim().is_empty()));
    if records.is_empty() {
        return Err("the file is empty; its first row must name the columns".to_owned());
    }
    let header = records.remove(0);
    Ok(Table {
        header,
        rows: records,
    })
}

/// A cell as text; whole numbers without a fraction (phone numbers typed into a sheet).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::Float(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            format!("{number:.0}")
        }
        other => other.to_string(),
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
                .write_record(cells)
                .map_err(|error| format!("cannot write a row: {error}")),
            TableWriter::Xlsx { workbook, row, .. } => {
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
            vec!["b@example.com, \"quoted\"".into(), String::new()],
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
        }
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
    fn whole_numbers_in_sheets_read_without_a_fraction() {
        assert_eq!(cell_text(&Data::Float(9_876_543_210.0)), "9876543210");
        assert_eq!(cell_text(&Data::Float(2.5)), "2.5");
        assert_eq!(cell_text(&Data::Empty), "");
    }
}
