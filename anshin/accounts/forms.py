from django import forms

from anshin.accounts.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "bio", "skills", "hide_last_access"]
        widgets = {
            "bio": forms.Textarea(
                attrs={"rows": 8, "placeholder": "得意な分野、実績、対応できる時間帯などを書いてください。"}
            ),
            "skills": forms.TextInput(attrs={"placeholder": "例: WordPress, 画像編集, 翻訳（英→日）"}),
        }
        help_texts = {
            "skills": "カンマ区切りで入力してください。",
            "hide_last_access": "オンにすると、プロフィールの最終アクセス日時が「非公開」と表示されます。",
        }
