"""The Data page's upload wizard: a foreign export to a saved mapping and an import, in steps.

1. ``POST /data/wizard``: one file (CSV, XLSX, Parquet: what ``sanjeh map suggest`` reads), kept
   under a random id (:mod:`sanjeh.web.staging`); its first rows and a draft mapping are read once
   (:func:`~sanjeh.ingest.choices.preview`, :func:`~sanjeh.ingest.suggest.suggest`); then
   ``/data/wizard/ID``. A file with no rows is refused.
2. ``GET /data/wizard/ID``: the first rows, and per canonical column of each table the draft fills
   a picker of the file's columns (the draft's line preselected, with how sure it is and why), per
   value of an enum column a picker of the canonical values, the draft's questions as choices.
3. ``POST /data/wizard/ID/dry-run``: the mapping the form makes
   (:func:`~sanjeh.ingest.choices.final_mapping`) through the importer's dry run: the counts, the
   rejects grouped by reason and the first rejected rows. Nothing is written.
4. ``POST /data/wizard/ID/save``: that mapping saved under a name in the workspace
   (``mappings/NAME.yaml``), where ``sanjeh import --mapping NAME`` finds it too.
5. ``POST /data/wizard/ID/import``: the file imported with the saved mapping, once; then the Data
   page with the import's summary.

Every step re-renders the form with the choices posted; a mistake (an unanswered question, a
required column left out, a column the file does not have, a bad name) is said above it (4xx).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from sanjeh.errors import MappingError, NotFound, UserError
from sanjeh.i18n import t, t_or
from sanjeh.ingest.choices import (
    Choice,
    Preview,
    enum_values,
    final_mapping,
    mapping_yaml,
    placed,
    plain_column,
    preselected,
    preview,
)
from sanjeh.ingest.mapping import save_mapping
from sanjeh.ingest.read import file_kind
from sanjeh.ingest.suggest import Draft, Line, suggest
from sanjeh.reasons import column_title
from sanjeh.schema import TABLES_BY_NAME
from sanjeh.web import staging
from sanjeh.web.data_pages import _groups, _reject_rows, render_data, summary_view
from sanjeh.web.deps import Caller, DataManager, data_manager, state_of
from sanjeh.web.pages import _lang, _render, _url

router = APIRouter(include_in_schema=False)
#: A picker's value for the draft's own line (an expression, a fixed value, a question); a file
#: column's value is ``@`` and its header; none is "not imported".
SUGGESTED = "="
#: Rejected rows of a dry run listed (all of them are counted and grouped).
FIRST_REJECTS = 20


async def _caller(request: Request) -> Caller:
    return await data_manager(request)


def _lang_q(request: Request) -> list[tuple[str, str]]:
    return [("lang", request.query_params.get("lang") or "")]


# -- 1. upload ---------------------------------------------------------------------------------
@router.post("/data/wizard")
async def wizard_upload(request: Request) -> Response:
    from sanjeh.web.api import save_uploads

    c = await _caller(request)
    st = state_of(request)
    lang = _lang(request, c.user)
    form = await request.form()
    files = [v for v in form.getlist("file") if isinstance(v, UploadFile) and v.filename]
    staged = staging.new(st.ws.root, c.user.username)
    try:
        if len(files) > 1:
            raise UserError(key="wizard.one_file")
        (path,) = await save_uploads(request, files, staged.files)
        if file_kind(path) is None:
            raise UserError(key="wizard.file_type", params={"file": path.name}, details={"file": path.name})
        sample = await run_in_threadpool(preview, path)
        if sample.total == 0:
            raise UserError(key="wizard.no_rows", params={"file": path.name}, details={"file": path.name})
        staged.write("preview", sample.to_dict())
        staged.write("meta", {**staged.meta, "file": path.name})
        await run_in_threadpool(_draft, request, staged, lang)
    except UserError as exc:
        staging.remove(staged)
        return render_data(request, c, None, None, status=exc.status, wizard_error=exc)
    return RedirectResponse(_url(f"/data/wizard/{staged.id}", _lang_q(request)), status_code=303)


def _draft(request: Request, staged: staging.Staged, lang: str) -> Draft:
    """The draft mapping of the staged file, in ``lang`` (its notes are words): made once per language."""
    found = staged.read(f"draft-{lang}")
    if isinstance(found, dict):
        return Draft.from_dict(found)
    currency = state_of(request).ws.settings.currency
    draft = suggest([staged.file], currency=currency, lang=lang)
    staged.write(f"draft-{lang}", draft.to_dict())
    return draft


def _preview(staged: staging.Staged) -> Preview:
    found = staged.read("preview")
    if not isinstance(found, dict):  # removed meanwhile (an old upload, swept)
        raise NotFound(key="wizard.unknown_upload", details={"upload": staged.id})
    return Preview.from_dict(found)


# -- 2. the form --------------------------------------------------------------------------------
def _suggested(line: Line, lang: str) -> tuple[str, str]:
    """The label of a draft's own line in its picker, and its expression (shown under the picker:
    an option cannot hold text of both directions)."""
    spec = line.spec
    if isinstance(spec, dict) and "ask" in spec:
        return t("wizard.answer_below", lang), ""
    if isinstance(spec, dict) and "value" in spec:
        return t("wizard.fixed", lang, value=spec["value"]), ""
    expr = str(spec.get("expr") or "") if isinstance(spec, dict) else str(spec)
    return t("wizard.suggested", lang), expr


def _values(table: str, column: str, choice: Choice, sample: Preview, lang: str) -> list[dict[str, Any]]:
    """The pickers of an enum column's values: each value of the chosen file column, with the
    canonical value chosen (posted, else the draft's, else what the word lists place it on)."""
    allowed = enum_values(table, column)
    if not allowed or choice.column is None:
        return []
    options = [("", t("wizard.as_written", lang))] + [
        (v, f"{t_value(v, lang)} ({v})" if lang == "fa" else v) for v in allowed
    ]
    out = []
    for v in sample.values.get(choice.column, []):
        chosen = choice.values[v] if v in choice.values else placed(table, column, v) or ""
        out.append({"value": v, "options": options, "selected": chosen})
    return out


def t_value(value: str, lang: str) -> str:
    """A canonical enum value in words (``won`` -> «موفق»)."""
    return t_or(f"wizard.value.{value}", lang, value)


def _view(draft: Draft, sample: Preview, choices: dict[tuple[str, str], Choice], lang: str) -> list[dict[str, Any]]:
    """The form's tables: per canonical column its picker, how sure the draft is, its question and
    its values' pickers."""
    tables = []
    for td in draft.tables:
        lines = {ln.column: ln for ln in td.lines}
        rows = []
        for col in TABLES_BY_NAME[td.table].columns:
            key = f"{td.table}.{col.name}"
            line = lines.get(col.name)
            choice = choices.get((td.table, col.name), Choice())
            options = [("", t("wizard.choose" if col.required else "wizard.not_imported", lang))]
            expr = ""
            if line is not None and plain_column(line) is None:
                label, expr = _suggested(line, lang)
                options.append((SUGGESTED, label))
            options += [(f"@{h}", h) for h in sample.columns]
            question = None
            if line is not None and isinstance(line.spec, dict) and "ask" in line.spec:
                labels = list((line.spec.get("choices") or {}).keys())
                question = {"text": line.spec["ask"], "choices": [(i, lab) for i, lab in enumerate(labels)]}
            rows.append(
                {
                    "key": key,
                    "name": col.name,
                    "title": column_title(col.name, lang),
                    "required": col.required,
                    "options": options,
                    "selected": SUGGESTED if choice.suggested else f"@{choice.column}" if choice.column else "",
                    "answer": choice.answer,
                    "expr": expr if choice.suggested else "",
                    "level": line.level if line is not None else "",
                    "level_text": t(f"map.level.{line.level}", lang) if line is not None else "",
                    "why": line.why if line is not None else "",
                    "question": question,
                    "picks": _values(td.table, col.name, choice, sample, lang),
                    "more_values": choice.column in sample.more,
                }
            )
        tables.append({"name": td.table, "title": t(f"table.{td.table}", lang), "rows": rows})
    return tables


def _choices(form: FormData, draft: Draft, sample: Preview) -> dict[tuple[str, str], Choice]:
    """The choices a posted form makes (``col:TABLE.COLUMN``, ``ans:…``, ``val:TABLE.COLUMN:VALUE``)."""
    out: dict[tuple[str, str], Choice] = {}
    for td in draft.tables:
        for col in TABLES_BY_NAME[td.table].columns:
            key = f"{td.table}.{col.name}"
            picked = form.get(f"col:{key}")
            if not isinstance(picked, str) or picked == "":
                continue
            if picked == SUGGESTED:
                answer = form.get(f"ans:{key}")
                number = int(answer) if isinstance(answer, str) and answer.isdecimal() and len(answer) < 4 else None
                out[(td.table, col.name)] = Choice(suggested=True, answer=number)
            elif picked.startswith("@"):
                prefix = f"val:{key}:"
                values = {
                    k[len(prefix) :]: v for k, v in form.multi_items() if k.startswith(prefix) and isinstance(v, str)
                }
                out[(td.table, col.name)] = Choice(column=picked[1:], values=values)
            else:
                shown = picked[:80]
                raise MappingError(
                    key="wizard.unknown_column",
                    params={"column": shown, "headers": sample.columns},
                    details={"column": shown},
                )
    return out


def _page(
    request: Request,
    c: Caller,
    staged: staging.Staged,
    *,
    choices: dict[tuple[str, str], Choice] | None = None,
    status: int = 200,
    **ctx: Any,
) -> Response:
    lang = _lang(request, c.user)
    draft = _draft(request, staged, lang)
    sample = _preview(staged)
    if choices is None:
        choices = {(td.table, ln.column): preselected(ln) for td in draft.tables for ln in td.lines}
    base = f"/data/wizard/{staged.id}"
    name = ctx.pop("mapping_name", None)
    return _render(
        request,
        "wizard.html",
        c,
        status=status,
        lang=lang,
        upload=staged.id,
        file=staged.meta["file"],
        sample=sample,
        tables=_view(draft, sample, choices, lang),
        notes=[*draft.unplaced, *draft.unused],
        mapping_name=name
        if name is not None
        else draft.name[: -len("-draft")]
        if draft.name.endswith("-draft")
        else "",
        dry_run_url=_url(f"{base}/dry-run", _lang_q(request)) + "#dry-run",
        save_url=_url(f"{base}/save", _lang_q(request)) + "#saved",
        import_url=_url(f"{base}/import", _lang_q(request)),
        **ctx,
    )


@router.get("/data/wizard/{upload}")
def wizard_page(request: Request, upload: str, c: DataManager) -> Response:
    staged = staging.find(state_of(request).ws.root, upload, c.user.username)
    return _page(request, c, staged)


# -- 3. dry run, 4. save, 5. import -------------------------------------------------------------
async def _posted(request: Request, upload: str) -> tuple[Caller, staging.Staged, FormData, Draft, Preview, str]:
    c = await _caller(request)
    staged = staging.find(state_of(request).ws.root, upload, c.user.username)
    lang = _lang(request, c.user)
    form = await request.form()
    draft = await run_in_threadpool(_draft, request, staged, lang)
    return c, staged, form, draft, _preview(staged), lang


def _mapping(draft: Draft, choices: dict[tuple[str, str], Choice], sample: Preview, name: str, file: str) -> str:
    data = final_mapping(draft, choices, sample.columns, name=name, description=f"upload wizard: {file}")
    return mapping_yaml(data, t("wizard.yaml_note", "en", file=file))


@router.post("/data/wizard/{upload}/dry-run")
async def wizard_dry_run(request: Request, upload: str) -> Response:
    c, staged, form, draft, sample, lang = await _posted(request, upload)
    choices = None
    try:
        choices = _choices(form, draft, sample)
        text = _mapping(draft, choices, sample, "wizard", staged.meta["file"])
        path = staged.folder / "mapping.yaml"
        path.write_text(text, encoding="utf-8")
        st = state_of(request)
        summary = await run_in_threadpool(
            st.call, lambda ws: ws.import_files([staged.file], mapping=path, dry_run=True)
        )
    except UserError as exc:
        return _page(
            request,
            c,
            staged,
            choices=choices,
            status=exc.status,
            error=exc.text(lang),
            mapping_name=str(form.get("name") or ""),
        )
    rejects = summary.rejects
    return _page(
        request,
        c,
        staged,
        choices=choices,
        mapping_name=str(form.get("name") or ""),
        dry_run=summary_view(summary.to_dict(), lang),
        groups=_groups(rejects, lang),
        rejects=_reject_rows(rejects[:FIRST_REJECTS], lang),
        rejects_total=len(rejects),
        # the warnings (accepted anyway: an unknown reference, a distinct table's other value) were
        # counted in the summary and listed nowhere
        warnings=_reject_rows(summary.warning_rows[:FIRST_REJECTS], lang),
    )


@router.post("/data/wizard/{upload}/save")
async def wizard_save(request: Request, upload: str) -> Response:
    c, staged, form, draft, sample, lang = await _posted(request, upload)
    name = str(form.get("name") or "").strip()
    choices = None
    try:
        choices = _choices(form, draft, sample)
        text = _mapping(draft, choices, sample, name, staged.meta["file"])
        replace = str(form.get("replace") or "") in ("1", "on", "true")
        save_mapping(state_of(request).ws.root, name, text, replace=replace)
    except UserError as exc:
        return _page(request, c, staged, choices=choices, status=exc.status, error=exc.text(lang), mapping_name=name)
    return _page(request, c, staged, choices=choices, mapping_name=name, saved=name)


@router.post("/data/wizard/{upload}/import")
async def wizard_import(request: Request, upload: str) -> Response:
    from sanjeh.web.api import import_files

    c = await _caller(request)
    staged = staging.find(state_of(request).ws.root, upload, c.user.username)
    form = await request.form()
    name = str(form.get("mapping") or "").strip()
    staged.claim()
    try:
        if not name:
            raise MappingError(key="wizard.save_first")
        summary = await run_in_threadpool(import_files, request, [staged.file], name, None, False)
    except UserError as exc:
        staged.release()
        lang = _lang(request, c.user)
        return _page(request, c, staged, status=exc.status, error=exc.text(lang), mapping_name=name, saved=name or None)
    staged.done(summary.import_id)
    url = _url("/data", [("import", summary.import_id), *_lang_q(request)])
    return RedirectResponse(url + "#import-summary", status_code=303)
