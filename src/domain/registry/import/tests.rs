//! The reader end to end, over workbooks and CSV files made here, and the shipped templates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::OnceLock;

use rust_xlsxwriter::{DocProperties, ExcelDateTime as XlsxDate, Format, Workbook};
use time::macros::{date, datetime};

use super::columns::Column;
use super::grid::number_text;
use super::xlsx::check_unpacked_size;
use super::*;
use crate::crypto::openpgp::AuditKey;
use crate::domain::registry::file::{
    ClientReference, Contact, Qualification, QualificationKind, Service, ServiceOffer,
};

/// A cell as a test writes it.
#[derive(Debug, Clone)]
enum C {
    S(String),
    N(f64),
    D(u16, u8, u8),
    B(bool),
}

fn s(v: &str) -> C {
    C::S(v.to_owned())
}

fn public_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        AuditKey::generate("x <x@example.org>", datetime!(2026-01-01 0:00 UTC))
            .unwrap()
            .public_armored()
            .unwrap()
    })
}

/// The evidence directory of the tests.
fn files(name: &str) -> Option<Vec<u8>> {
    match name {
        "provider.asc" | "other.asc" => Some(public_key().as_bytes().to_vec()),
        "secret.asc" => Some(
            b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxxx\n-----END PGP PRIVATE KEY BLOCK-----\n"
                .to_vec(),
        ),
        "garbage.asc" => Some(b"hello".to_vec()),
        "missing.pdf" => None,
        n if n.ends_with(".pdf") => Some(format!("%PDF-1.7 {n}").into_bytes()),
        _ => None,
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn header() -> Vec<C> {
    Column::ALL.iter().map(|c| s(c.name())).collect()
}

/// The example application of the template: every column used.
fn example() -> Vec<(&'static str, C)> {
    vec![
        ("legal_name", s("Exemple Réponse Incident SAS")),
        ("siren", s("572104891")),
        ("siret", s("57210489100013")),
        ("website", s("https://www.exemple-reponse.example")),
        (
            "catalogue_url",
            s("https://www.exemple-reponse.example/offres/reponse-incident"),
        ),
        ("catalogue_lists_incident_response", s("yes")),
        ("contact_name", s("Camille Martin")),
        ("contact_role", s("Responsable CERT")),
        ("contact_email", s("cert@exemple-reponse.example")),
        ("contact_phone", s("+33 1 23 45 67 89")),
        (
            "services_jho",
            s("qualification; collection; analysis; containment; remediation; post_incident"),
        ),
        ("services_jhno", s("qualification; collection; containment")),
        (
            "fields_of_competence",
            s("Windows; Active Directory; Linux; cloud; OT"),
        ),
        ("pris_expires", C::D(2027, 6, 30)),
        ("pris_evidence", s("pris.pdf")),
        ("passi_expires", s("")),
        ("passi_evidence", s("")),
        ("expertcyber_expires", s("")),
        ("expertcyber_evidence", s("")),
        ("acyma_expires", s("2027-12-31")),
        ("acyma_evidence", s("acyma.pdf")),
        (
            "other_qualifications",
            s("ISO/IEC 27001|2027-03-31|iso27001.pdf"),
        ),
        (
            "staff_training",
            s("12 analysts; GIAC GCFA, GCIH; internal training 5 days a year"),
        ),
        (
            "staff_experience",
            s("Average 8 years in incident response.\nOn call 24/7 since 2019."),
        ),
        (
            "client_references",
            s(
                "Commune d'Exempleville|Ransomware, 2025: containment and rebuild|no; \
                 Clinique Fictive|Forensic analysis|yes",
            ),
        ),
        ("openpgp_key_file", s("provider.asc")),
    ]
}

/// The example row with some cells changed, in the template's column order.
fn row(changes: &[(&str, C)]) -> Vec<C> {
    let mut cells: HashMap<&str, C> = example().into_iter().collect();
    for (name, value) in changes {
        assert!(cells.contains_key(name), "no column {name}");
        cells.insert(name, value.clone());
    }
    Column::ALL
        .iter()
        .map(|c| cells.remove(c.name()).unwrap())
        .collect()
}

fn date_format() -> Format {
    Format::new().set_num_format("yyyy-mm-dd")
}

/// An XLSX workbook of `rows` (an empty row stays blank), on its first sheet.
fn xlsx(rows: &[Vec<C>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (r, cells) in rows.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                C::S(v) if v.is_empty() => {}
                C::S(v) => drop(sheet.write_string(r, c, v).unwrap()),
                C::N(n) => drop(sheet.write_number(r, c, *n).unwrap()),
                C::B(b) => drop(sheet.write_boolean(r, c, *b).unwrap()),
                C::D(y, m, d) => {
                    let date = XlsxDate::from_ymd(*y, *m, *d).unwrap();
                    sheet
                        .write_datetime_with_format(r, c, &date, &date_format())
                        .unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn csv_text(cell: &C) -> String {
    match cell {
        C::S(v) => v.clone(),
        C::N(n) => number_text(*n),
        C::B(b) => if *b { "yes" } else { "no" }.to_owned(),
        C::D(y, m, d) => format!("{y:04}-{m:02}-{d:02}"),
    }
}

fn csv_with(rows: &[Vec<C>], delimiter: u8, terminator: ::csv::Terminator) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .terminator(terminator)
        .from_writer(Vec::new());
    for cells in rows {
        w.write_record(cells.iter().map(csv_text)).unwrap();
    }
    w.into_inner().unwrap()
}

fn csv(rows: &[Vec<C>]) -> Vec<u8> {
    csv_with(rows, b',', ::csv::Terminator::Any(b'\n'))
}

fn read(bytes: &[u8], format: SheetFormat) -> Result<Vec<ImportedApplication>, ImportError> {
    read_applications(bytes, format, &files)
}

/// The problems of a sheet of `rows` after the header, as `cell: message`, the same
/// whether it is read as XLSX or as CSV.
fn problems(rows: &[Vec<C>]) -> Vec<String> {
    let mut all = vec![header()];
    all.extend_from_slice(rows);
    let from_xlsx = match read(&xlsx(&all), SheetFormat::Xlsx) {
        Err(ImportError::Rows(errors)) => errors,
        other => panic!("expected problems, got {other:?}"),
    };
    let from_csv = match read(&csv(&all), SheetFormat::Csv) {
        Err(ImportError::Rows(errors)) => errors,
        other => panic!("expected problems, got {other:?}"),
    };
    assert_eq!(from_xlsx, from_csv);
    from_xlsx.iter().map(ToString::to_string).collect()
}

fn two_rows_with_numbers_and_dates() -> Vec<Vec<C>> {
    vec![
        header(),
        row(&[
            ("siren", C::N(572_104_891.0)),
            ("siret", C::N(57_210_489_100_013.0)),
            ("pris_expires", C::D(2027, 6, 30)),
            ("acyma_expires", C::N(46568.0)),
        ]),
        vec![],
        row(&[
            ("legal_name", s("Autre Prestataire SARL")),
            // A SIREN starting with 0, typed as a number: Excel drops the 0.
            ("siren", C::N(12_345_674.0)),
            ("siret", s("")),
            ("catalogue_lists_incident_response", C::B(true)),
            ("contact_phone", s("")),
            ("services_jho", s("")),
            ("services_jhno", s("Analysis;post_incident;")),
            ("fields_of_competence", s("")),
            ("pris_expires", s("")),
            ("pris_evidence", s("")),
            ("acyma_expires", s("")),
            ("acyma_evidence", s("")),
            ("other_qualifications", s("")),
            ("staff_training", s("")),
            ("staff_experience", s("")),
            ("client_references", s("")),
            ("openpgp_key_file", s("other.asc")),
        ]),
    ]
}

#[test]
fn reads_two_applications_from_xlsx() {
    let apps = read(&xlsx(&two_rows_with_numbers_and_dates()), SheetFormat::Xlsx).unwrap();
    assert_eq!(apps.len(), 2);

    let first = &apps[0];
    assert_eq!(first.row, 2);
    let f = &first.file;
    assert_eq!(f.legal_name, "Exemple Réponse Incident SAS");
    assert_eq!(f.siren, "572104891");
    assert_eq!(f.siret.as_deref(), Some("57210489100013"));
    assert!(f.catalogue_lists_incident_response);
    assert_eq!(
        f.contacts,
        vec![Contact {
            name: "Camille Martin".into(),
            role: "Responsable CERT".into(),
            email: "cert@exemple-reponse.example".into(),
            phone: "+33 1 23 45 67 89".into(),
        }]
    );
    let offer = |service, jho, jhno| ServiceOffer { service, jho, jhno };
    assert_eq!(
        f.services,
        vec![
            offer(Service::Qualification, true, true),
            offer(Service::Collection, true, true),
            offer(Service::Analysis, true, false),
            offer(Service::Containment, true, true),
            offer(Service::Remediation, true, false),
            offer(Service::PostIncident, true, false),
        ]
    );
    assert_eq!(
        f.fields_of_competence,
        ["Windows", "Active Directory", "Linux", "cloud", "OT"]
    );
    let pris = b"%PDF-1.7 pris.pdf";
    assert_eq!(
        f.qualifications,
        vec![
            Qualification {
                kind: QualificationKind::Pris,
                evidence_sha256: sha256(pris),
                evidence_name: "pris.pdf".into(),
                expires: date!(2027 - 06 - 30),
            },
            Qualification {
                kind: QualificationKind::Acyma,
                evidence_sha256: sha256(b"%PDF-1.7 acyma.pdf"),
                evidence_name: "acyma.pdf".into(),
                // Typed as a plain number: Excel's serial of the date.
                expires: date!(2027 - 06 - 30),
            },
            Qualification {
                kind: QualificationKind::Other("ISO/IEC 27001".into()),
                evidence_sha256: sha256(b"%PDF-1.7 iso27001.pdf"),
                evidence_name: "iso27001.pdf".into(),
                expires: date!(2027 - 03 - 31),
            },
        ]
    );
    let names: Vec<_> = first.evidence.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["pris.pdf", "acyma.pdf", "iso27001.pdf"]);
    assert_eq!(first.evidence[0].bytes, pris);
    assert_eq!(first.evidence[0].sha256, sha256(pris));
    assert_eq!(
        f.staff_experience,
        "Average 8 years in incident response.\nOn call 24/7 since 2019."
    );
    assert_eq!(
        f.client_references,
        vec![
            ClientReference {
                client: "Commune d'Exempleville".into(),
                description: "Ransomware, 2025: containment and rebuild".into(),
                confidential: false,
            },
            ClientReference {
                client: "Clinique Fictive".into(),
                description: "Forensic analysis".into(),
                confidential: true,
            },
        ]
    );
    assert_eq!(f.openpgp_key.trim(), public_key().trim());
    assert!(f.problems().is_empty());
    assert!(f.conditions().met());

    // The blank row 3 is skipped; rows keep their numbers.
    let second = &apps[1];
    assert_eq!(second.row, 4);
    assert_eq!(second.file.siren, "012345674");
    assert_eq!(second.file.siret, None);
    assert!(second.file.qualifications.is_empty());
    assert!(second.evidence.is_empty());
    assert_eq!(
        second.file.services,
        vec![
            offer(Service::Analysis, false, true),
            offer(Service::PostIncident, false, true),
        ]
    );
    assert_eq!(second.file.contacts[0].phone, "");
}

#[test]
fn csv_reads_like_xlsx() {
    let rows = two_rows_with_numbers_and_dates();
    let from_xlsx = read(&xlsx(&rows), SheetFormat::Xlsx).unwrap();
    // In CSV everything is text: the SIREN as a spreadsheet would export it.
    let mut text_rows = rows.clone();
    text_rows[1][Column::AcymaExpires as usize] = s("2027-06-30");
    text_rows[3][Column::Siren as usize] = s("012345674");
    let from_csv = read(&csv(&text_rows), SheetFormat::Csv).unwrap();
    assert_eq!(from_csv, from_xlsx);

    // French Excel: `;`, CRLF, a BOM.
    let mut french = b"\xEF\xBB\xBF".to_vec();
    french.extend(csv_with(&text_rows, b';', ::csv::Terminator::CRLF));
    assert_eq!(read(&french, SheetFormat::Csv).unwrap(), from_xlsx);
}

#[test]
fn column_order_is_free() {
    let rows = two_rows_with_numbers_and_dates();
    let reversed: Vec<Vec<C>> = rows
        .iter()
        .map(|r| r.iter().rev().cloned().collect())
        .collect();
    let apps = read(&xlsx(&reversed), SheetFormat::Xlsx).unwrap();
    assert_eq!(apps, read(&xlsx(&rows), SheetFormat::Xlsx).unwrap());
}

#[test]
fn garbage_is_not_a_spreadsheet() {
    let garbage = b"\x00\x01\x02 this is not a workbook \xff\xfe";
    assert!(matches!(
        read(garbage, SheetFormat::Xlsx),
        Err(ImportError::NotASpreadsheet(_))
    ));
    assert!(matches!(
        read(garbage, SheetFormat::Csv),
        Err(ImportError::NotASpreadsheet(_))
    ));
    let workbook = xlsx(&[header()]);
    assert!(matches!(
        read(&workbook, SheetFormat::Csv),
        Err(ImportError::NotASpreadsheet(_))
    ));
}

#[test]
fn header_must_name_every_column_once() {
    let without = |rows: &[Vec<C>], name: &str| -> Vec<Vec<C>> {
        let at = Column::parse(name).unwrap() as usize;
        rows.iter()
            .map(|r| {
                let mut r = r.clone();
                r.remove(at);
                r
            })
            .collect()
    };
    let rows = vec![header(), row(&[])];
    for bytes in [
        xlsx(&without(&rows, "acyma_evidence")),
        csv(&without(&rows, "acyma_evidence")),
    ] {
        for format in [SheetFormat::Xlsx, SheetFormat::Csv] {
            match read(&bytes, format) {
                Err(ImportError::BadHeader(m)) => assert!(m.contains("acyma_evidence"), "{m}"),
                Err(ImportError::NotASpreadsheet(_)) => {}
                other => panic!("{other:?}"),
            }
        }
    }

    let mut unknown = header();
    unknown.push(s("favourite_colour"));
    match read(&xlsx(&[unknown]), SheetFormat::Xlsx) {
        Err(ImportError::BadHeader(m)) => {
            assert!(m.contains("\"favourite_colour\" (AA1)"), "{m}");
        }
        other => panic!("{other:?}"),
    }

    let mut twice = header();
    twice[2] = s("siren");
    match read(&csv(&[twice]), SheetFormat::Csv) {
        Err(ImportError::BadHeader(m)) => {
            assert!(m.contains("column \"siren\" twice (C1)"), "{m}");
            assert!(m.contains("missing column \"siret\""), "{m}");
        }
        other => panic!("{other:?}"),
    }

    match read(&xlsx(&[vec![], row(&[])]), SheetFormat::Xlsx) {
        Err(ImportError::BadHeader(m)) => assert!(m.contains("row 1 is empty"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_workbook_without_rows_has_no_application() {
    assert_eq!(read(&xlsx(&[header()]), SheetFormat::Xlsx).unwrap(), []);
    assert_eq!(read(&csv(&[header()]), SheetFormat::Csv).unwrap(), []);
}

#[test]
fn bad_siren_names_its_cell() {
    assert_eq!(
        problems(&[row(&[("siren", s("572104892")), ("siret", s(""))])]),
        ["B2: must be 9 digits with a valid check digit"]
    );
    // The SIRET is checked against the SIREN.
    assert_eq!(
        problems(&[row(&[("siret", s("73282932000074"))])]),
        ["C2: must be 14 digits starting with the SIREN, with a valid check digit"]
    );
    // Spaces, as the SIREN is often written, are fine.
    let rows = [header(), row(&[("siren", s("572 104 891"))])];
    assert_eq!(
        read(&csv(&rows), SheetFormat::Csv).unwrap()[0].file.siren,
        "572104891"
    );
}

#[test]
fn a_qualification_needs_both_its_date_and_its_evidence() {
    assert_eq!(
        problems(&[row(&[("pris_evidence", s(""))])]),
        ["O2: required: PRIS is declared (it has an expiry date) and needs its evidence file"]
    );
    assert_eq!(
        problems(&[row(&[("passi_evidence", s("passi.pdf"))])]),
        ["P2: required: PASSI has an evidence file"]
    );
    assert_eq!(
        problems(&[row(&[(
            "other_qualifications",
            s("ISO 27001|2027-03-31|; |2027-01-01|x.pdf; Qualiopi")
        )])]),
        [
            "V2: \"ISO 27001|2027-03-31|\": the evidence file is required",
            "V2: \"|2027-01-01|x.pdf\": the qualification's name is required",
            "V2: \"Qualiopi\": expected name|YYYY-MM-DD|evidence-file",
        ]
    );
}

#[test]
fn evidence_must_be_found() {
    assert_eq!(
        problems(&[row(&[("pris_evidence", s("missing.pdf"))])]),
        ["O2: file \"missing.pdf\" not found"]
    );
    assert_eq!(
        problems(&[row(&[(
            "other_qualifications",
            s("ISO 27001|2027-03-31|missing.pdf")
        )])]),
        ["V2: file \"missing.pdf\" not found"]
    );
    // A name is looked up in one directory and must stay in it.
    assert_eq!(
        problems(&[row(&[("pris_evidence", s("../pris.pdf"))])]),
        [
            "O2: \"../pris.pdf\": a plain file name is expected (no directory, not starting \
             with a dot)"
        ]
    );
}

#[test]
fn unknown_service_is_named() {
    assert_eq!(
        problems(&[row(&[("services_jhno", s("containment; forensics"))])]),
        [
            "L2: unknown service \"forensics\": one of qualification, collection, analysis, \
             containment, remediation, post_incident"
        ]
    );
}

#[test]
fn dates_are_iso() {
    for bad in ["2027-13-01", "31/12/2027", "2027-02-30", "next year"] {
        assert_eq!(
            problems(&[row(&[("pris_expires", s(bad))])]),
            ["N2: not a date: expected YYYY-MM-DD"],
            "{bad}"
        );
    }
    assert_eq!(
        problems(&[row(&[(
            "other_qualifications",
            s("ISO 27001|2027-02-30|iso27001.pdf")
        )])]),
        ["V2: \"ISO 27001|2027-02-30|iso27001.pdf\": \"2027-02-30\" is not a date (YYYY-MM-DD)"]
    );
}

#[test]
fn every_problem_of_every_row_is_reported() {
    let errors = problems(&[
        row(&[("siren", s("123")), ("siret", s(""))]),
        row(&[
            ("siren", s("732829320")),
            ("siret", s("")),
            ("services_jho", s("triage")),
            ("contact_email", s("not an address")),
        ]),
        vec![],
        row(&[
            ("siren", s("012345674")),
            ("siret", s("")),
            ("acyma_expires", s("soon")),
            ("website", s("http://plain.example")),
            ("catalogue_lists_incident_response", s("maybe")),
        ]),
        row(&[("siren", s("012345674")), ("siret", s(""))]),
    ]);
    assert_eq!(
        errors,
        [
            "B2: must be 9 digits with a valid check digit",
            "I3: not an e-mail address",
            "K3: unknown service \"triage\": one of qualification, collection, analysis, \
             containment, remediation, post_incident",
            "D5: must be an https:// URL",
            "F5: expected yes or no (oui/non, true/false)",
            "T5: not a date: expected YYYY-MM-DD",
            "B6: the same SIREN as row 5: one application per provider",
        ]
    );
}

#[test]
fn the_openpgp_key_is_an_armored_public_key() {
    assert_eq!(
        problems(&[row(&[("openpgp_key_file", s(""))])]),
        ["Z2: required: the file of the provider's armored OpenPGP public key"]
    );
    assert_eq!(
        problems(&[row(&[("openpgp_key_file", s("secret.asc"))])]),
        ["Z2: \"secret.asc\": this is a PRIVATE key: the provider must send its public key only"]
    );
    assert_eq!(
        problems(&[row(&[("openpgp_key_file", s("garbage.asc"))])]),
        ["Z2: \"garbage.asc\": not an armored OpenPGP public key \
             (-----BEGIN PGP PUBLIC KEY BLOCK-----)"]
    );
    assert_eq!(
        problems(&[row(&[("openpgp_key_file", s("nowhere.asc"))])]),
        ["Z2: file \"nowhere.asc\" not found"]
    );
}

#[test]
fn cells_are_read_as_their_column_expects() {
    let rows = vec![
        header(),
        row(&[("catalogue_lists_incident_response", s("Non"))]),
    ];
    let apps = read(&xlsx(&rows), SheetFormat::Xlsx).unwrap();
    assert!(!apps[0].file.catalogue_lists_incident_response);

    let rows = vec![header(), row(&[("contact_phone", C::N(123_456_789.0))])];
    assert_eq!(
        read(&xlsx(&rows), SheetFormat::Xlsx),
        Err(ImportError::Rows(vec![CellError {
            cell: "J2".into(),
            message: "typed as a number, the phone number lost its leading 0 or +: type it \
                      as text"
                .into()
        }]))
    );
    assert_eq!(
        problems(&[row(&[(
            "client_references",
            s("Client|Work|perhaps; |Nameless|no; Only a name")
        )])]),
        [
            "Y2: \"Client|Work|perhaps\": confidential must be yes or no",
            "Y2: \"|Nameless|no\": the client's name is required",
            "Y2: \"Only a name\": expected client|description|confidential (yes or no)",
        ]
    );
}

#[test]
fn values_outside_the_columns_are_reported() {
    let mut long = row(&[]);
    long.push(s("stray"));
    assert_eq!(
        problems(&[long]),
        ["AA2: a value in a column without a header"]
    );

    let mut far = row(&[]);
    far.resize(100, s(""));
    far.push(s("far away"));
    let rows = vec![header(), far];
    match read(&xlsx(&rows), SheetFormat::Xlsx) {
        Err(ImportError::Rows(e)) => assert_eq!(
            e,
            [CellError {
                cell: "CW2".into(),
                message: "a value in a column without a header".into()
            }]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_huge_used_range_is_not_materialised() {
    // A1 to XFD1048576 is 17 billion cells if read as a dense range.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, name) in Column::ALL.iter().enumerate() {
        sheet.write_string(0, c as u16, name.name()).unwrap();
    }
    sheet.write_string(1_048_575, 16_383, "far").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    match read(&bytes, SheetFormat::Xlsx) {
        Err(ImportError::Rows(e)) => assert_eq!(
            e,
            [CellError {
                cell: "XFD1048576".into(),
                message: "a value in a column without a header".into()
            }]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
    // A quoted cell over two lines, then a blank line: the bad SIREN is on row 4.
    let good = row(&[("staff_experience", s("line one\r\nline two"))]);
    let bad = row(&[("siren", s("572104892")), ("siret", s(""))]);
    let mut bytes = csv(&[header(), good]);
    bytes.extend_from_slice(b"\n");
    bytes.extend(csv(&[bad]));
    match read(&bytes, SheetFormat::Csv) {
        Err(ImportError::Rows(e)) => assert_eq!(e[0].cell, "B4", "{e:?}"),
        other => panic!("{other:?}"),
    }
    let good = row(&[("staff_experience", s("line one\r\nline two"))]);
    let apps = read(&csv(&[header(), good]), SheetFormat::Csv).unwrap();
    assert_eq!(apps[0].file.staff_experience, "line one\nline two");
}

#[test]
fn not_utf8_csv_is_reported_on_its_cell() {
    let mut bytes = csv(&[header()]);
    let mut line = csv(&[row(&[("legal_name", s("Soci\u{e9}t\u{e9}"))])]);
    // "Société" in Windows-1252, as Excel saves plain "CSV".
    let at = line.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    line.splice(at..at + 2, [0xE9]);
    bytes.extend(line);
    match read(&bytes, SheetFormat::Csv) {
        Err(ImportError::Rows(e)) => assert_eq!(
            e[0].to_string(),
            "A2: not UTF-8 text: save the file as \"CSV UTF-8\""
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn limits() {
    let big = vec![b'a'; MAX_SPREADSHEET_BYTES + 1];
    assert_eq!(
        read(&big, SheetFormat::Csv),
        Err(ImportError::TooLarge {
            size: MAX_SPREADSHEET_BYTES + 1
        })
    );

    let mut rows = "legal_name\n".to_owned();
    rows.push_str(&"x\n".repeat(MAX_APPLICATIONS + 1));
    assert_eq!(
        read(rows.as_bytes(), SheetFormat::Csv),
        Err(ImportError::TooManyRows)
    );

    let workbook = xlsx(&[header(), row(&[])]);
    assert_eq!(check_unpacked_size(&workbook, MAX_UNPACKED_BYTES), Ok(()));
    assert_eq!(
        check_unpacked_size(&workbook, 1000),
        Err(ImportError::TooLargeUnpacked)
    );
}

#[test]
fn format_from_extension() {
    assert_eq!(
        SheetFormat::from_path(Path::new("a/b.XLSX")),
        Some(SheetFormat::Xlsx)
    );
    assert_eq!(
        SheetFormat::from_path(Path::new("b.csv")),
        Some(SheetFormat::Csv)
    );
    assert_eq!(SheetFormat::from_path(Path::new("b.xls")), None);
    assert_eq!(SheetFormat::from_path(Path::new("csv")), None);
}

// The templates shipped in `templates/`.

const TEMPLATE_XLSX: &[u8] = include_bytes!("../../../../templates/provider-application.xlsx");
const TEMPLATE_CSV: &[u8] = include_bytes!("../../../../templates/provider-application.csv");

/// What each column holds, for the template's second sheet (kept in step with
/// `templates/README.md`).
const GUIDE: [(&str, &str); 26] = [
    ("legal_name", "Legal name of the company (required)"),
    (
        "siren",
        "SIREN: 9 digits (required). Type it as text so a leading 0 is kept",
    ),
    (
        "siret",
        "SIRET of the establishment: 14 digits starting with the SIREN (optional)",
    ),
    (
        "website",
        "https:// address of the company's website (required)",
    ),
    (
        "catalogue_url",
        "https:// address of the public catalogue page listing the incident-response services (required)",
    ),
    (
        "catalogue_lists_incident_response",
        "yes or no: that page lists your incident-response services",
    ),
    ("contact_name", "Contact for the CSIRT (required)"),
    ("contact_role", "Their role (optional)"),
    ("contact_email", "Their e-mail address (required)"),
    ("contact_phone", "Their phone number, as text (optional)"),
    (
        "services_jho",
        "Services offered in business hours, separated by ';': qualification; collection; analysis; containment; remediation; post_incident",
    ),
    (
        "services_jhno",
        "Services offered outside business hours, same names",
    ),
    (
        "fields_of_competence",
        "Fields of competence, separated by ';'",
    ),
    (
        "pris_expires",
        "PRIS qualification: expiry date YYYY-MM-DD (empty if not held)",
    ),
    (
        "pris_evidence",
        "PRIS qualification: file name of the proof, sent with this sheet",
    ),
    (
        "passi_expires",
        "PASSI qualification: expiry date YYYY-MM-DD (empty if not held)",
    ),
    (
        "passi_evidence",
        "PASSI qualification: file name of the proof",
    ),
    (
        "expertcyber_expires",
        "ExpertCyber label: expiry date YYYY-MM-DD (empty if not held)",
    ),
    (
        "expertcyber_evidence",
        "ExpertCyber label: file name of the proof",
    ),
    (
        "acyma_expires",
        "ACYMA (cybermalveillance.gouv.fr) referencing: expiry date YYYY-MM-DD (empty if not held)",
    ),
    (
        "acyma_evidence",
        "ACYMA referencing: file name of the proof",
    ),
    (
        "other_qualifications",
        "Other qualifications, separated by ';', each name|YYYY-MM-DD|proof file name",
    ),
    (
        "staff_training",
        "Training and certifications of the staff (free text)",
    ),
    ("staff_experience", "Experience of the staff (free text)"),
    (
        "client_references",
        "Client references, separated by ';', each client|description|confidential (yes or no)",
    ),
    (
        "openpgp_key_file",
        "File name of your armored OpenPGP public key (.asc), sent with this sheet (required)",
    ),
];

fn template_rows() -> Vec<Vec<C>> {
    vec![header(), row(&[])]
}

/// The template workbook: the applications sheet first (the one read), then the guide.
fn template_xlsx() -> Vec<u8> {
    let mut book = Workbook::new();
    // Fixed, so that regenerating the template changes nothing when nothing changed.
    let created = XlsxDate::from_ymd(2026, 1, 1).unwrap();
    book.set_properties(
        &DocProperties::new()
            .set_title("relais: incident-response provider application")
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name("Application").unwrap();
    for (c, column) in Column::ALL.iter().enumerate() {
        let c = c as u16;
        sheet
            .write_string_with_format(0, c, column.name(), &bold)
            .unwrap();
        sheet.set_column_width(c, 24).unwrap();
        match column {
            // Typed as numbers, these lose their leading zeros.
            Column::Siren | Column::Siret | Column::ContactPhone => {
                sheet.set_column_format(c, &text).unwrap();
            }
            Column::PrisExpires
            | Column::PassiExpires
            | Column::ExpertCyberExpires
            | Column::AcymaExpires => {
                sheet.set_column_format(c, &date_format()).unwrap();
            }
            _ => {}
        }
    }
    sheet.set_freeze_panes(1, 0).unwrap();
    // Unformatted cells take their column's format, so the example row's SIREN is text
    // and the provider's typing over it stays text.
    for (c, cell) in row(&[]).into_iter().enumerate() {
        let c = c as u16;
        match cell {
            C::S(v) if v.is_empty() => {}
            C::S(v) => drop(sheet.write_string(1, c, v).unwrap()),
            C::D(y, m, d) => {
                let date = XlsxDate::from_ymd(y, m, d).unwrap();
                sheet
                    .write_datetime_with_format(1, c, &date, &date_format())
                    .unwrap();
            }
            other => panic!("the template writes no {other:?}"),
        }
    }
    let guide = book.add_worksheet();
    guide.set_name("Guide").unwrap();
    guide
        .write_string_with_format(0, 0, "column", &bold)
        .unwrap();
    guide
        .write_string_with_format(0, 1, "what to write", &bold)
        .unwrap();
    guide.set_column_width(0, 36).unwrap();
    guide.set_column_width(1, 120).unwrap();
    for (r, (column, what)) in GUIDE.iter().enumerate() {
        let r = r as u32 + 1;
        guide.write_string(r, 0, *column).unwrap();
        guide.write_string(r, 1, *what).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// Writes `templates/`: `cargo test --lib registry::import -- --ignored write_templates`.
#[test]
#[ignore = "writes the templates into the source tree"]
fn write_templates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    std::fs::write(dir.join("provider-application.xlsx"), template_xlsx()).unwrap();
    std::fs::write(dir.join("provider-application.csv"), csv(&template_rows())).unwrap();
}

#[test]
fn guide_covers_every_column() {
    let names: Vec<_> = GUIDE.iter().map(|(n, _)| *n).collect();
    let columns: Vec<_> = Column::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names, columns);
}

#[test]
fn shipped_templates_read() {
    let from_xlsx = read(TEMPLATE_XLSX, SheetFormat::Xlsx).unwrap();
    let from_csv = read(TEMPLATE_CSV, SheetFormat::Csv).unwrap();
    assert_eq!(from_xlsx.len(), 1);
    assert_eq!(from_xlsx, from_csv);
    let app = &from_xlsx[0];
    assert_eq!(app.row, 2);
    assert_eq!(app.file.siren, "572104891");
    assert_eq!(app.file.siret.as_deref(), Some("57210489100013"));
    assert_eq!(app.file.qualifications[0].kind, QualificationKind::Pris);
    assert_eq!(app.file.qualifications[0].expires, date!(2027 - 06 - 30));
    assert!(app.file.problems().is_empty());
    assert!(app.file.conditions().met());
    // The shipped files are the ones the generator writes (the workbook's dates are fixed,
    // so the bytes are too, until rust_xlsxwriter changes its output).
    let regenerate = "templates/ differ from the generator: \
                      cargo test --lib registry::import -- --ignored write_templates";
    assert!(TEMPLATE_CSV == csv(&template_rows()), "{regenerate}");
    assert!(TEMPLATE_XLSX == template_xlsx(), "{regenerate}");
}
