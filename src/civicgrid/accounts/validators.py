import string

from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """Password must mix at least ``min_classes`` of: lower case, upper case, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    @staticmethod
    def classes(password: str) -> int:
        return sum(
            [
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any((c in string.punctuation) or (not c.isalnum() and not c.isspace()) for c in password),
            ]
        )

    def validate(self, password, user=None):
        if self.classes(password) < self.min_classes:
            raise ValidationError(
                f"密码需包含小写字母、大写字母、数字、符号中的至少 {self.min_classes} 类。",
                code="password_too_simple",
            )

    def get_help_text(self):
        return f"密码需包含小写字母、大写字母、数字、符号中的至少 {self.min_classes} 类。"
