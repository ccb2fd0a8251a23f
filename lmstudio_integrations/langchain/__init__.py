"""LM Studio for LangChain: chat model, text-completion LLM and embeddings.

```python
from lmstudio_integrations.langchain import ChatLMStudio

llm = ChatLMStudio(model="qwen2.5-7b-instruct")
print(llm.invoke("Hello!").text)
```
"""

from __future__ import annotations

from .chat_models import BlockingCallWarning, ChatLMStudio
from .embeddings import LMStudioEmbeddings
from .llms import LMStudioLLM

__all__ = ["BlockingCallWarning", "ChatLMStudio", "LMStudioEmbeddings", "LMStudioLLM"]
