"""The base of every console form."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import CombinedMultiDict, MultiDict


class ConsoleForm(FlaskForm):
    """A Flask-WTF form whose uploaded files reach its file fields only.

    Flask-WTF hands a multipart request's files to every field: a text field posted as a file holds a FileStorage,
    and its validators and the view (len(), .strip()) fail with a TypeError, a 500. A browser never sends that; a file
    under any other field's name is left out, so the field is as missing as it is and the form says so.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            data = super().wrap_formdata(form, formdata)
            if isinstance(data, CombinedMultiDict):
                file_fields = {name for name, field in form._fields.items() if isinstance(field, FileField)}
                files = MultiDict([(key, file) for key, file in request.files.items(multi=True) if key in file_fields])
                return CombinedMultiDict((files, request.form))
            return data
