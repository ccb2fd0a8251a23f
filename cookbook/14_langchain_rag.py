"""LangChain RAG: index a few texts in langchain-core's in-memory vector store with
``LMStudioEmbeddings``, retrieve for a question, answer with ``ChatLMStudio``.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``),
an LLM and an embedding model. Both classes read ``LMSTUDIO_BASE_URL`` (else they find a
local LM Studio); ``LMSTUDIO_MODEL`` and ``LMSTUDIO_EMBEDDING_MODEL`` select the models.

Tip: load both models in LM Studio first (app or ``lms load``): with JIT auto-evict on
(the default), a model loaded on demand unloads the previous one loaded on demand.
"""

from __future__ import annotations

import os

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from lmstudio_integrations.langchain import ChatLMStudio, LMStudioEmbeddings

MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")
EMBEDDING_MODEL = os.environ.get("LMSTUDIO_EMBEDDING_MODEL", "text-embedding-nomic-embed-text-v1.5")

NOTES = [
    "The office wifi password is 'blue-heron-42'; it changes every January.",
    "Lunch is served in the cafeteria on the third floor from noon to 2 pm.",
    "Expense reports are due on the fifth working day of each month.",
    "The fire assembly point is the car park behind building B.",
]

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer from the context only. If it is not there, say so.\n\n{context}"),
        ("human", "{question}"),
    ]
)


def format_docs(docs: list[Document]) -> str:
    return "\n".join(f"- {doc.page_content}" for doc in docs)


def main() -> None:
    store = InMemoryVectorStore(LMStudioEmbeddings(model=EMBEDDING_MODEL))
    store.add_texts(NOTES)
    retriever = store.as_retriever(search_kwargs={"k": 2})

    question = "What is the wifi password?"
    for doc in retriever.invoke(question):
        print(f"retrieved: {doc.page_content}")

    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | PROMPT
        | ChatLMStudio(model=MODEL, temperature=0)
        | StrOutputParser()
    )
    print(f"Q: {question}\nA: {chain.invoke(question)}")


if __name__ == "__main__":
    main()
